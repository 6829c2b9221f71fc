"""Push limits: what a device registration may hold, and how many devices a user may have."""

MAX_TOKEN_CHARS = 4096
MAX_APP_VERSION_CHARS = 32
MAX_LOCALE_CHARS = 16
MAX_DEVICES_PER_USER = 10
