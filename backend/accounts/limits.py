"""Account limits: how long a display name may be and how many specialties a provider may list."""

MAX_NAME_LENGTH = 200
MAX_SPECIALTIES = 20
