"""What the auth domain says happened to sessions; backend/wiring.py decides who reacts (open
sockets re-check their session, push forgets a signed-out device)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.core.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedOut(DomainEvent):
    """The user ended this session on the device it was signed in on (``device_id``: the app's
    installation id, when the session has one)."""

    user_id: UUID
    session_id: UUID
    device_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionsRevoked(DomainEvent):
    """One or more of the user's sessions were revoked (password change, token reuse, a
    device mismatch): whatever was open on them stops."""

    user_id: UUID
