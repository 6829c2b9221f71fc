"""Auth result types."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.auth.errors import AuthError as DomainAuthError
from backend.auth.errors import AuthErrorCode as DomainAuthErrorCode
from backend.auth.service import IssuedSession
from backend.graphql.common import Error

AuthErrorCode = strawberry.enum(DomainAuthErrorCode)


@strawberry.type(description="Tokens of a session. Keep the refresh token in the device's secure storage.")
class AuthPayload:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str = strawberry.field(description="Single use: each refresh returns the next one.")
    refresh_token_expires_at: datetime
    token_type: str = "Bearer"

    @classmethod
    def from_session(cls, issued: IssuedSession) -> AuthPayload:
        return cls(
            access_token=issued.access_token,
            access_token_expires_at=issued.access_token_expires_at,
            refresh_token=issued.refresh_token,
            refresh_token_expires_at=issued.refresh_token_expires_at,
        )


@strawberry.type(description="Sign-in or session failure.")
class AuthError(Error):
    code: AuthErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None = None
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="Set with TOO_MANY_ATTEMPTS: wait this long before retrying."
    )

    @classmethod
    def from_domain(cls, error: DomainAuthError) -> AuthError:
        return cls(
            code=error.code,
            message=error.message,
            field=error.field,
            retry_after_seconds=error.retry_after_seconds,
        )


@strawberry.type
class LogoutSuccess:
    ok: bool = True
