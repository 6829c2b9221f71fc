"""The authenticated caller as every domain sees it: user, session, roles per organization and
provider entries.

Built in one place, ``AuthService`` (``authenticate_request`` once per HTTP request,
``authenticate`` once per socket and ``reauthenticate`` on its re-checks), from one statement
that reads the session, the user, their roles and their provider entries together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from backend.accounts.codes import STAFF_ROLES, Role


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: UUID
    session_id: UUID
    home_organization_id: UUID
    roles_by_organization: Mapping[UUID, frozenset[Role]]
    access_expires_at: datetime
    provider_ids: frozenset[UUID]

    def has_role(self, organization_id: UUID, role: Role) -> bool:
        return role in self.roles_by_organization.get(organization_id, frozenset())

    def is_member(self, organization_id: UUID) -> bool:
        return bool(self.roles_by_organization.get(organization_id))

    @property
    def member_organization_ids(self) -> list[UUID]:
        return [org for org, roles in self.roles_by_organization.items() if roles]

    @property
    def staff_organization_ids(self) -> list[UUID]:
        return [org for org, roles in self.roles_by_organization.items() if roles & STAFF_ROLES]

    def is_staff_of(self, organization_id: UUID) -> bool:
        """A coordinator or referral manager of the organization."""
        return bool(self.roles_by_organization.get(organization_id, frozenset()) & STAFF_ROLES)

    def is_provider_in(self, provider_id: UUID | None, organization_id: UUID) -> bool:
        """``provider_id`` is one of the caller's provider entries, and they are a member of
        the organization that entry acts for."""
        return provider_id in self.provider_ids and self.is_member(organization_id)
