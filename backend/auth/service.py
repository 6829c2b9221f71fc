"""Authentication use cases.

    login ──► throttle check ──► argon2id verify ──► new session (refresh family) ──► tokens
    refresh ──► find token by hash ──► used already? revoke the whole family (reuse)
                                   └─► consume atomically ──► next token in the same family
    every request ──► authenticate(access JWT) ──► session still live and user active?

A session is one refresh-token family bound to one device id. Refresh tokens are opaque,
single-use and stored as SHA-256 digests. Access tokens are short-lived ES256 JWTs naming the
session, so revoking a session (logout, reuse, password change) or deactivating the user
rejects its access tokens at once, not at expiry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction, AuditOutcome
from backend.audit.service import AuditTrail
from backend.auth import repository, throttle
from backend.auth.errors import AuthError, AuthErrorCode, InvalidAccessToken, NotAuthenticated
from backend.auth.events import SessionsRevoked, SignedOut
from backend.auth.limits import MAX_OPAQUE_TOKEN_LENGTH
from backend.auth.passwords import Passwords
from backend.auth.throttle import ThrottleScope, throttle_key
from backend.auth.tokens import AccessClaims, AccessTokens
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.core.events import emit
from backend.core.request import RequestMeta
from backend.core.secrets import new_opaque_token, token_digest
from backend.core.validation import (
    MAX_EMAIL_LENGTH,
    MAX_PASSWORD_LENGTH,
    check_new_password,
    normalize_email,
)
from backend.settings import Settings

DEVICE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RevokeReason:
    LOGOUT = "logout"
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"
    PASSWORD_CHANGED = "password_changed"
    DEVICE_MISMATCH = "device_mismatch"


@dataclass(frozen=True, slots=True)
class IssuedSession:
    user_id: UUID
    session_id: UUID
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str
    refresh_token_expires_at: datetime


NO_PROVIDERS: frozenset[UUID] = frozenset()
"""Shared by every actor without provider entries: an empty frozenset is 216 bytes, and each open
socket keeps its actor (bench-realtime measures memory per idle socket)."""


def _invalid_credentials() -> AuthError:
    return AuthError(AuthErrorCode.INVALID_CREDENTIALS, "E-mail or password is incorrect.")


def _check_device_id(problems: InvalidInput, device_id: str) -> None:
    if not DEVICE_ID_PATTERN.match(device_id):
        problems.add("deviceId", "INVALID_DEVICE_ID", "1-128 characters: letters, digits and . _ : -")


class AuthService:
    def __init__(self, settings: Settings, passwords: Passwords, tokens: AccessTokens) -> None:
        self._settings = settings
        self.passwords = passwords
        self._tokens = tokens

    async def login(
        self,
        audit: AuditTrail,
        meta: RequestMeta,
        *,
        email: str,
        password: str,
        device_id: str,
        is_sqlite: bool,
    ) -> IssuedSession:
        problems = InvalidInput()
        if not email.strip() or len(email) > MAX_EMAIL_LENGTH:
            problems.add("email", "INVALID_EMAIL", "Enter a valid e-mail address.")
        if not password or len(password) > MAX_PASSWORD_LENGTH:
            problems.add("password", "INVALID_PASSWORD", "Enter your password.")
        _check_device_id(problems, device_id)
        problems.raise_if_any()

        now = utcnow()
        email = normalize_email(email)
        account_key = throttle_key(email)
        address_key = throttle_key(meta.client_address)
        wait = await throttle.seconds_until_unlocked(
            [(ThrottleScope.ACCOUNT, account_key), (ThrottleScope.ADDRESS, address_key)], now
        )
        if wait is not None:
            audit.record(AuditAction.LOGIN_THROTTLED, outcome=AuditOutcome.DENIED)
            raise AuthError(
                AuthErrorCode.TOO_MANY_ATTEMPTS,
                "Too many failed sign-in attempts. Try again later.",
                retry_after_seconds=wait,
            )

        user = await repository.user_for_login(email)
        password_ok = await self.passwords.verify(user.password_hash if user else None, password)
        if user is None or not password_ok or not user.is_active:
            config = self._settings.login_throttle
            for scope, key in (
                (ThrottleScope.ACCOUNT, account_key),
                (ThrottleScope.ADDRESS, address_key),
            ):
                await throttle.register_failure(scope, key, now, config, is_sqlite=is_sqlite)
            audit.record(
                AuditAction.LOGIN_FAILED,
                outcome=AuditOutcome.FAILURE,
                actor_user_id=user.id if user else None,
            )
            raise _invalid_credentials()

        await throttle.clear(ThrottleScope.ACCOUNT, account_key)
        if user.password_hash is not None and self.passwords.needs_rehash(user.password_hash):
            await accounts.set_password_hash(user.id, await self.passwords.hash(password), now)
        issued = await self._start_session(user.id, device_id, now)
        audit.record(
            AuditAction.LOGIN_SUCCEEDED,
            actor_user_id=user.id,
            organization_id=user.home_organization,
            object_type="Session",
            object_id=issued.session_id,
        )
        return issued

    async def refresh(self, audit: AuditTrail, *, refresh_token: str, device_id: str) -> IssuedSession:
        problems = InvalidInput()
        if not refresh_token or len(refresh_token) > MAX_OPAQUE_TOKEN_LENGTH:
            problems.add("refreshToken", "INVALID_REFRESH_TOKEN", "Malformed refresh token.")
        _check_device_id(problems, device_id)
        problems.raise_if_any()

        now = utcnow()
        row = await repository.refresh_token_with_session(token_digest(refresh_token))
        if row is None:
            audit.record(AuditAction.TOKEN_REFRESH_FAILED, outcome=AuditOutcome.FAILURE)
            raise AuthError(AuthErrorCode.INVALID_REFRESH_TOKEN, "Sign in again.")
        session_id = row.session_id
        user_id = row.user_id

        if row.used_at is not None:
            await self._revoke_family_for_reuse(audit, session_id, user_id, now)
        if row.device_id != device_id:
            await repository.revoke_session(session_id, RevokeReason.DEVICE_MISMATCH, now)
            await emit(SessionsRevoked(user_id=user_id))
            audit.record(
                AuditAction.TOKEN_REUSE_DETECTED,
                outcome=AuditOutcome.DENIED,
                actor_user_id=user_id,
                object_type="Session",
                object_id=session_id,
            )
            raise AuthError(AuthErrorCode.INVALID_REFRESH_TOKEN, "Sign in again.")
        live = (
            row.session_revoked_at is None
            and row.session_expires_at > now
            and row.expires_at > now
            and row.user_is_active
        )
        if not live:
            audit.record(
                AuditAction.TOKEN_REFRESH_FAILED,
                outcome=AuditOutcome.FAILURE,
                actor_user_id=user_id,
                object_type="Session",
                object_id=session_id,
            )
            raise AuthError(AuthErrorCode.SESSION_REVOKED, "This session has ended. Sign in again.")
        if not await repository.mark_refresh_token_used(row.id, now):
            await self._revoke_family_for_reuse(audit, session_id, user_id, now)

        issued = await self._next_in_family(user_id, session_id, now, row.session_expires_at)
        audit.record(
            AuditAction.TOKEN_REFRESHED,
            actor_user_id=user_id,
            object_type="Session",
            object_id=session_id,
        )
        return issued

    async def logout(self, actor: Actor, audit: AuditTrail) -> None:
        device_id = await repository.session_device_id(actor.session_id)
        await repository.revoke_session(actor.session_id, RevokeReason.LOGOUT, utcnow())
        await emit(SignedOut(user_id=actor.user_id, session_id=actor.session_id, device_id=device_id))
        audit.record(
            AuditAction.LOGOUT,
            actor_user_id=actor.user_id,
            object_type="Session",
            object_id=actor.session_id,
        )

    async def change_password(
        self, actor: Actor, audit: AuditTrail, *, current_password: str, new_password: str
    ) -> IssuedSession:
        problems = InvalidInput()
        check_new_password(problems, "newPassword", new_password)
        if len(current_password) > MAX_PASSWORD_LENGTH:
            problems.add("currentPassword", "TOO_LONG", "Password too long.")
        if new_password == current_password:
            problems.add("newPassword", "UNCHANGED", "Choose a password different from the current one.")
        problems.raise_if_any()
        user = await accounts.user_by_id(actor.user_id)
        assert user is not None
        if not await self.passwords.verify(user.password_hash, current_password):
            audit.record(
                AuditAction.PASSWORD_CHANGED,
                outcome=AuditOutcome.FAILURE,
                actor_user_id=actor.user_id,
                object_type="User",
                object_id=actor.user_id,
            )
            raise AuthError(
                AuthErrorCode.WRONG_PASSWORD,
                "Current password is incorrect.",
                field="currentPassword",
            )
        now = utcnow()
        device_id = await repository.session_device_id(actor.session_id) or "unknown"
        await accounts.set_password_hash(actor.user_id, await self.passwords.hash(new_password), now)
        await repository.revoke_user_sessions(actor.user_id, RevokeReason.PASSWORD_CHANGED, now)
        await emit(SessionsRevoked(user_id=actor.user_id))
        audit.record(
            AuditAction.PASSWORD_CHANGED,
            actor_user_id=actor.user_id,
            object_type="User",
            object_id=actor.user_id,
        )
        return await self._start_session(actor.user_id, device_id, now)

    async def accept_invitation(
        self, audit: AuditTrail, *, invitation_token: str, password: str, device_id: str
    ) -> IssuedSession:
        problems = InvalidInput()
        if not invitation_token or len(invitation_token) > MAX_OPAQUE_TOKEN_LENGTH:
            problems.add("invitationToken", "INVALID_INVITATION", "Malformed invitation.")
        check_new_password(problems, "password", password)
        _check_device_id(problems, device_id)
        problems.raise_if_any()
        now = utcnow()
        user_id = await accounts.claim_invitation(token_digest(invitation_token), now)
        if user_id is None:
            raise AuthError(AuthErrorCode.INVALID_INVITATION, "This invitation is invalid or has expired.")
        await accounts.set_password_hash(user_id, await self.passwords.hash(password), now)
        audit.record(
            AuditAction.INVITATION_ACCEPTED,
            actor_user_id=user_id,
            object_type="User",
            object_id=user_id,
        )
        return await self._start_session(user_id, device_id, now)

    async def authenticate(self, bearer_token: str) -> Actor:
        """A long-lived connection's caller: its token is presented once, so not remembered."""
        claims = self._claims(bearer_token, remember=False)
        return await self._actor(claims.user_id, claims.session_id, claims.expires_at)

    async def authenticate_request(self, bearer_token: str) -> Actor:
        """A request's caller (verified tokens are remembered: an app sends the same one for
        minutes)."""
        claims = self._claims(bearer_token, remember=True)
        return await self._actor(claims.user_id, claims.session_id, claims.expires_at)

    def _claims(self, bearer_token: str, *, remember: bool) -> AccessClaims:
        try:
            return self._tokens.verify(bearer_token, remember=remember)
        except InvalidAccessToken as error:
            raise NotAuthenticated from error

    async def reauthenticate(self, actor: Actor) -> Actor:
        """The same caller as now: session still live, user still active, roles as they are now
        (long-lived connections re-check without keeping the token)."""
        if actor.access_expires_at <= utcnow():
            raise NotAuthenticated
        return await self._actor(actor.user_id, actor.session_id, actor.access_expires_at)

    async def _actor(self, user_id: UUID, session_id: UUID, access_expires_at: datetime) -> Actor:
        """The caller, from one statement: session, user, roles and provider entries (nearly
        every request's access checks need the provider entries)."""
        rows = await repository.active_session_actor_rows(session_id, user_id)
        row = rows[0] if rows else None
        now = utcnow()
        if row is None or row.revoked_at is not None or row.expires_at <= now or not row.user_is_active:
            raise NotAuthenticated
        return Actor(
            user_id=user_id,
            session_id=session_id,
            home_organization_id=row.home_organization_id,
            roles_by_organization=accounts.role_mapping(rows),
            access_expires_at=access_expires_at,
            provider_ids=frozenset(r.provider_id for r in rows if r.provider_id is not None) or NO_PROVIDERS,
        )

    async def _revoke_family_for_reuse(
        self, audit: AuditTrail, session_id: UUID, user_id: UUID, now: datetime
    ) -> None:
        await repository.revoke_session(session_id, RevokeReason.REFRESH_TOKEN_REUSE, now)
        await emit(SessionsRevoked(user_id=user_id))
        audit.record(
            AuditAction.TOKEN_REUSE_DETECTED,
            outcome=AuditOutcome.DENIED,
            actor_user_id=user_id,
            object_type="Session",
            object_id=session_id,
        )
        raise AuthError(
            AuthErrorCode.REFRESH_TOKEN_REUSED,
            "This refresh token was already used; every session of this sign-in has been ended.",
        )

    async def _start_session(self, user_id: UUID, device_id: str, now: datetime) -> IssuedSession:
        session_expires_at = now + timedelta(seconds=self._settings.session_max_lifetime_seconds)
        session_id = await repository.insert_session(user_id, device_id, session_expires_at)
        return await self._next_in_family(user_id, session_id, now, session_expires_at)

    async def _next_in_family(
        self, user_id: UUID, session_id: UUID, now: datetime, session_expires_at: datetime
    ) -> IssuedSession:
        refresh_token = new_opaque_token()
        refresh_expires_at = min(
            now + timedelta(seconds=self._settings.refresh_token_ttl_seconds), session_expires_at
        )
        await repository.insert_refresh_token(session_id, token_digest(refresh_token), refresh_expires_at)
        access_token, access_expires_at = self._tokens.issue(user_id, session_id, now)
        return IssuedSession(
            user_id=user_id,
            session_id=session_id,
            access_token=access_token,
            access_token_expires_at=access_expires_at,
            refresh_token=refresh_token,
            refresh_token_expires_at=refresh_expires_at,
        )
