"""GraphQL types for account objects, and their mapping from the repository's records."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

import strawberry

from backend.accounts import records, service
from backend.accounts.codes import OrganizationKind as DomainOrganizationKind
from backend.accounts.codes import Role as DomainRole
from backend.accounts.errors import AccountError
from backend.graphql.accounts import dataloaders
from backend.graphql.common import (
    Node,
    PageInfo,
    decode_cursor,
    encode_cursor,
    page_size,
    to_global_id,
)
from backend.graphql.context import Info

Role = strawberry.enum(DomainRole, description="What a membership lets a user do in an organization.")
OrganizationKind = strawberry.enum(DomainOrganizationKind)


@strawberry.type
class Organization(Node):
    id: strawberry.ID
    name: str
    kind: OrganizationKind  # type: ignore[valid-type]
    raw_id: strawberry.Private[UUID]

    @strawberry.field(
        description="Users whose home or membership is this organization; null unless you are its admin."
    )
    async def users(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> UserConnection | None:
        context = info.context
        limit = page_size(first, maximum=context.container.settings.graphql_limits.max_page_size)
        try:
            rows = await service.organization_users(
                context.require_actor(),
                organization_id=self.raw_id,
                after_email=decode_cursor(after),
                limit=limit + 1,
            )
        except AccountError:
            return None
        page = rows[:limit]
        return UserConnection(
            edges=[UserEdge(cursor=encode_cursor(row.email), node=user_from_record(row)) for row in page],
            page_info=PageInfo(
                has_next_page=len(rows) > limit,
                end_cursor=encode_cursor(page[-1].email) if page else None,
            ),
        )


@strawberry.type
class Membership:
    organization: Organization
    roles: list[Role]  # type: ignore[valid-type]


@strawberry.type
class Specialty:
    code: str
    name: str


@strawberry.type
class Provider(Node):
    id: strawberry.ID
    npi: str
    display_name: str
    accepting_new_patients: bool
    raw_id: strawberry.Private[UUID]
    organization_id: strawberry.Private[UUID]

    @strawberry.field
    async def specialty_codes(self, info: Info) -> list[str]:
        loader = info.context.loader("specialty_codes", dataloaders.specialty_codes_loader)
        codes: list[str] = await loader.load(self.raw_id)
        return codes

    @strawberry.field
    async def organization(self, info: Info) -> Organization:
        return await load_organization(info, self.organization_id)


@strawberry.type
class User(Node):
    id: strawberry.ID
    email: str
    display_name: str
    is_active: bool
    raw_id: strawberry.Private[UUID]
    home_organization_id: strawberry.Private[UUID]

    @strawberry.field
    async def home_organization(self, info: Info) -> Organization:
        return await load_organization(info, self.home_organization_id)

    @strawberry.field(description="The user's roles, grouped by organization.")
    async def memberships(self, info: Info) -> list[Membership]:
        loader = info.context.loader("memberships", dataloaders.memberships_loader)
        rows: list[records.Membership] = await loader.load(self.raw_id)
        roles: dict[UUID, list[DomainRole]] = defaultdict(list)
        for row in rows:
            roles[row.organization].append(DomainRole(row.role))
        return [
            Membership(organization=await load_organization(info, org_id), roles=sorted(org_roles))
            for org_id, org_roles in sorted(roles.items(), key=lambda item: str(item[0]))
        ]

    @strawberry.field(description="The directory entry of this user, when they are a clinician.")
    async def provider(self, info: Info) -> Provider | None:
        loader = info.context.loader("provider_of_user", dataloaders.provider_of_user_loader)
        row = await loader.load(self.raw_id)
        return provider_from_record(row) if row else None


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo


async def load_organization(info: Info, organization_id: UUID) -> Organization:
    loader = info.context.loader("organization", dataloaders.organization_loader)
    row = await loader.load(organization_id)
    assert row is not None, "organization rows are never deleted"
    return organization_from_record(row)


def organization_from_record(row: records.Organization) -> Organization:
    return Organization(
        id=to_global_id("Organization", row.id),
        name=row.name,
        kind=DomainOrganizationKind(row.kind),
        raw_id=row.id,
    )


def user_from_record(row: records.User) -> User:
    return User(
        id=to_global_id("User", row.id),
        email=row.email,
        display_name=row.display_name,
        is_active=row.is_active,
        raw_id=row.id,
        home_organization_id=row.home_organization,
    )


def provider_from_record(row: records.Provider) -> Provider:
    return Provider(
        id=to_global_id("Provider", row.id),
        npi=row.npi,
        display_name=row.display_name,
        accepting_new_patients=row.accepting_new_patients,
        raw_id=row.id,
        organization_id=row.organization,
    )
