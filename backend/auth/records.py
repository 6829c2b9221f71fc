"""Typed, immutable records of the authentication queries: the joined rows that authenticate a
request or a refresh, a user's credentials for sign-in, and login throttle rows.

The repository builds each from one selected row, ``records.LoginThrottle(**row)``: fields are
named like the selected columns or their aliases.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class RefreshTokenWithSession(msgspec.Struct, frozen=True, kw_only=True):
    """A refresh token with its session and the session's user."""

    id: UUID
    expires_at: datetime
    used_at: datetime | None
    session_id: UUID
    device_id: str
    session_revoked_at: datetime | None
    session_expires_at: datetime
    user_id: UUID
    user_is_active: bool


class SessionActorRow(msgspec.Struct, frozen=True, kw_only=True):
    """The session with its user, for one membership and one provider entry of the user
    (``organization``/``role`` and ``provider_id`` are None when there is none)."""

    expires_at: datetime
    revoked_at: datetime | None
    user_is_active: bool
    home_organization_id: UUID
    organization: UUID | None
    role: str | None
    provider_id: UUID | None


class UserCredentials(msgspec.Struct, frozen=True, kw_only=True):
    """What sign-in reads of a user."""

    id: UUID
    password_hash: str | None
    is_active: bool
    home_organization: UUID


class LoginThrottle(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    scope: str
    key_hash: str
    failures: int
    window_started_at: datetime
    locked_until: datetime | None
