"""What the accounts domain says happened to a user's standing; backend/wiring.py decides who
reacts (open sockets re-check access, push forgets a deactivated user's devices)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.core.events import DomainEvent


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipChanged(DomainEvent):
    """The user's roles in the organization were replaced (an empty set removed them)."""

    user_id: UUID
    organization_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class UserDeactivated(DomainEvent):
    user_id: UUID
