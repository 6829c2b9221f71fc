"""The authenticated caller as every domain sees it: user, session and roles per organization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from backend.accounts.codes import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    session_id: UUID
    home_organization_id: UUID
    roles_by_organization: Mapping[UUID, frozenset[Role]]
    access_expires_at: datetime

    def has_role(self, organization_id: UUID, role: Role) -> bool:
        return role in self.roles_by_organization.get(organization_id, frozenset())

    def is_member(self, organization_id: UUID) -> bool:
        return bool(self.roles_by_organization.get(organization_id))
