"""Authentication limits: the longest opaque token (refresh, invitation) read before it is refused."""

MAX_OPAQUE_TOKEN_LENGTH = 128
