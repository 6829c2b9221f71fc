"""Authentication error codes (part of the mobile contract: never rename, only add) and error types."""

from enum import StrEnum

from backend.core.errors import DomainError


class AuthErrorCode(StrEnum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"
    SESSION_REVOKED = "SESSION_REVOKED"
    INVALID_INVITATION = "INVALID_INVITATION"
    WRONG_PASSWORD = "WRONG_PASSWORD"


class AuthError(DomainError):
    code: AuthErrorCode

    def __init__(
        self,
        code: AuthErrorCode,
        message: str,
        *,
        field: str | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(code, message, field=field)
        self.retry_after_seconds = retry_after_seconds


class NotAuthenticated(Exception):
    """No valid access token, or its session or user is no longer active."""


class InvalidAccessToken(Exception):
    """The bearer token is not one we issued, or no longer valid (reason is for logs only)."""
