"""Every authentication query: sessions, refresh tokens, login throttles."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from backend.accounts.tables import User
from backend.auth import records
from backend.auth.tables import AuthSession, LoginThrottle, RefreshToken
from backend.db import fetch


async def insert_session(user_id: UUID, device_id: str, expires_at: datetime) -> UUID:
    session = AuthSession(user=user_id, device_id=device_id, expires_at=expires_at)
    await session.save()
    return UUID(str(session.id))


async def insert_refresh_token(session_id: UUID, token_hash: str, expires_at: datetime) -> None:
    await RefreshToken(session=session_id, token_hash=token_hash, expires_at=expires_at).save()


async def refresh_token_with_session(token_hash: str) -> records.RefreshTokenWithSession | None:
    row = await (
        RefreshToken.select(
            RefreshToken.id,
            RefreshToken.expires_at,
            RefreshToken.used_at,
            RefreshToken.session._.id.as_alias("session_id"),
            RefreshToken.session._.device_id.as_alias("device_id"),
            RefreshToken.session._.revoked_at.as_alias("session_revoked_at"),
            RefreshToken.session._.expires_at.as_alias("session_expires_at"),
            RefreshToken.session._.user._.id.as_alias("user_id"),
            RefreshToken.session._.user._.is_active.as_alias("user_is_active"),
        )
        .where(RefreshToken.token_hash == token_hash)
        .first()
    )
    return records.RefreshTokenWithSession(**row) if row is not None else None


async def mark_refresh_token_used(token_id: UUID, now: datetime) -> bool:
    """Atomically consume a refresh token; False when another request consumed it first."""
    rows = await (
        RefreshToken.update({RefreshToken.used_at: now})
        .where((RefreshToken.id == token_id) & RefreshToken.used_at.is_null())
        .returning(RefreshToken.id)
    )
    return bool(rows)


async def revoke_session(session_id: UUID, reason: str, now: datetime) -> None:
    await AuthSession.update({AuthSession.revoked_at: now, AuthSession.revoked_reason: reason}).where(
        (AuthSession.id == session_id) & AuthSession.revoked_at.is_null()
    )


async def revoke_user_sessions(user_id: UUID, reason: str, now: datetime) -> None:
    await AuthSession.update({AuthSession.revoked_at: now, AuthSession.revoked_reason: reason}).where(
        (AuthSession.user == user_id) & AuthSession.revoked_at.is_null()
    )


async def active_session_actor_rows(session_id: UUID, user_id: UUID) -> list[records.SessionActorRow]:
    """The session with its user, one row per membership and provider entry of the user
    (``organization``/``role`` and ``provider_id`` are NULL when there is none); empty when there is
    no such session. One statement: every request authenticates."""
    rows = await fetch(
        AuthSession,
        "SELECT auth_session.expires_at, auth_session.revoked_at, app_user.is_active AS user_is_active, "
        "app_user.home_organization AS home_organization_id, membership.organization, membership.role, "
        "provider.id AS provider_id "
        'FROM auth_session LEFT JOIN app_user ON app_user.id = auth_session."user" '
        'LEFT JOIN membership ON membership."user" = auth_session."user" '
        'LEFT JOIN provider ON provider."user" = auth_session."user" '
        'WHERE auth_session.id = {} AND auth_session."user" = {}',
        session_id,
        user_id,
    )
    return [records.SessionActorRow(**row) for row in rows]


async def user_for_login(email: str) -> records.UserCredentials | None:
    row = (
        await User.select(User.id, User.password_hash, User.is_active, User.home_organization)
        .where(User.email == email)
        .first()
    )
    return records.UserCredentials(**row) if row is not None else None


async def lock_throttle_row(
    scope: str, key_hash: str, now: datetime, *, is_sqlite: bool
) -> records.LoginThrottle:
    """Fetch (creating if needed) the throttle row, locked for this transaction on PostgreSQL."""
    await LoginThrottle.insert(
        LoginThrottle(scope=scope, key_hash=key_hash, failures=0, window_started_at=now)
    ).on_conflict(action="DO NOTHING")
    if not is_sqlite:
        await fetch(
            LoginThrottle,
            "SELECT id FROM login_throttle WHERE scope = {} AND key_hash = {} FOR UPDATE",
            scope,
            key_hash,
        )
    row = (
        await LoginThrottle.select()
        .where((LoginThrottle.scope == scope) & (LoginThrottle.key_hash == key_hash))
        .first()
    )
    assert row is not None
    return records.LoginThrottle(**row)


async def throttle_rows(keys: list[tuple[str, str]]) -> list[records.LoginThrottle]:
    if not keys:
        return []
    condition: Any = None
    for scope, key_hash in keys:
        clause = (LoginThrottle.scope == scope) & (LoginThrottle.key_hash == key_hash)
        condition = clause if condition is None else condition | clause
    return [records.LoginThrottle(**row) for row in await LoginThrottle.select().where(condition)]


async def update_throttle(
    row_id: UUID, *, failures: int, window_started_at: datetime, locked_until: datetime | None
) -> None:
    await LoginThrottle.update(
        {
            LoginThrottle.failures: failures,
            LoginThrottle.window_started_at: window_started_at,
            LoginThrottle.locked_until: locked_until,
        }
    ).where(LoginThrottle.id == row_id)


async def clear_throttle(scope: str, key_hash: str) -> None:
    await LoginThrottle.delete().where((LoginThrottle.scope == scope) & (LoginThrottle.key_hash == key_hash))


async def session_device_id(session_id: UUID) -> str | None:
    row = await AuthSession.select(AuthSession.device_id).where(AuthSession.id == session_id).first()
    return str(row["device_id"]) if row else None
