"""Account queries: the caller, organizations, specialties."""

from __future__ import annotations

import strawberry

from backend.accounts import access, repository
from backend.accounts.errors import AccountError
from backend.graphql.accounts.types import (
    Organization,
    Specialty,
    User,
    organization_from_record,
    user_from_record,
)
from backend.graphql.common import uuid_of
from backend.graphql.context import Info


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in user, with memberships and roles.")
    async def me(self, info: Info) -> User:
        actor = info.context.require_actor()
        row = await access.access_user(actor, actor.user_id)
        return user_from_record(row)

    @strawberry.field(description="An organization you belong to; null for any other id.")
    async def organization(self, info: Info, id: strawberry.ID) -> Organization | None:
        actor = info.context.require_actor()
        organization_id = uuid_of(id, "Organization")
        if organization_id is None:
            return None
        try:
            row = await access.access_organization(actor, organization_id)
        except AccountError:
            return None
        return organization_from_record(row)

    @strawberry.field(description="Every specialty code the directory knows.")
    async def specialties(self, info: Info) -> list[Specialty]:
        info.context.require_actor()
        return [Specialty(code=row.code, name=row.name) for row in await repository.all_specialties()]
