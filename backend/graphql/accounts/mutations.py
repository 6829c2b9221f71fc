"""Account mutations: each parses ids, calls one service function and maps the outcome."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import strawberry

from backend.accounts import repository, service
from backend.accounts.codes import Role as DomainRole
from backend.accounts.errors import AccountError as DomainAccountError
from backend.accounts.errors import AccountErrorCode as DomainAccountErrorCode
from backend.accounts.errors import not_found
from backend.accounts.limits import MAX_SPECIALTIES
from backend.core.errors import InvalidInput
from backend.graphql.accounts.inputs import (
    CreateProviderInput,
    DeactivateUserInput,
    InviteUserInput,
    SetMembershipRolesInput,
)
from backend.graphql.accounts.types import Provider, User, provider_from_record, user_from_record
from backend.graphql.common import Error, InputError, uuid_of
from backend.graphql.context import Info

AccountErrorCode = strawberry.enum(DomainAccountErrorCode)


@strawberry.type(description="An account operation was refused.")
class AccountError(Error):
    code: AccountErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None

    @classmethod
    def from_domain(cls, error: DomainAccountError) -> AccountError:
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class InviteUserSuccess:
    user: User
    invitation_token: str = strawberry.field(
        description="Shown once: deliver it to the user out of band; it expires in 7 days."
    )


@strawberry.type
class SetMembershipRolesSuccess:
    user: User


@strawberry.type
class DeactivateUserSuccess:
    user: User


@strawberry.type
class CreateProviderSuccess:
    provider: Provider


InviteUserResult = Annotated[
    InviteUserSuccess | AccountError | InputError, strawberry.union("InviteUserResult")
]
SetMembershipRolesResult = Annotated[
    SetMembershipRolesSuccess | AccountError,
    strawberry.union("SetMembershipRolesResult"),
]
DeactivateUserResult = Annotated[
    DeactivateUserSuccess | AccountError, strawberry.union("DeactivateUserResult")
]
CreateProviderResult = Annotated[
    CreateProviderSuccess | AccountError | InputError, strawberry.union("CreateProviderResult")
]


def _uuid(global_id: str, type_name: str) -> UUID:
    parsed = uuid_of(global_id, type_name)
    if parsed is None:
        raise not_found()
    return parsed


def _roles(roles: list[DomainRole]) -> frozenset[DomainRole]:
    return frozenset(DomainRole(role) for role in roles)


@strawberry.type
class AccountMutations:
    @strawberry.mutation(
        description="Create a user in your organization and get a one-time invitation token."
    )
    async def invite_user(self, info: Info, input: InviteUserInput) -> InviteUserResult:
        context = info.context
        actor = context.require_actor()
        try:
            invited = await service.invite_user(
                actor,
                context.audit,
                organization_id=_uuid(input.organization_id, "Organization"),
                email=input.email,
                display_name=input.display_name,
                roles=_roles(input.roles),
            )
        except DomainAccountError as error:
            return AccountError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return InviteUserSuccess(
            user=user_from_record(invited.user), invitation_token=invited.invitation_token
        )

    @strawberry.mutation(description="Replace a user's roles in your organization.")
    async def set_membership_roles(
        self, info: Info, input: SetMembershipRolesInput
    ) -> SetMembershipRolesResult:
        context = info.context
        actor = context.require_actor()
        try:
            user = await service.set_roles(
                actor,
                context.audit,
                organization_id=_uuid(input.organization_id, "Organization"),
                user_id=_uuid(input.user_id, "User"),
                roles=_roles(input.roles),
            )
        except DomainAccountError as error:
            return AccountError.from_domain(error)
        return SetMembershipRolesSuccess(user=user_from_record(user))

    @strawberry.mutation(description="Deactivate a user of your organization: their sessions stop at once.")
    async def deactivate_user(self, info: Info, input: DeactivateUserInput) -> DeactivateUserResult:
        context = info.context
        actor = context.require_actor()
        try:
            user = await service.deactivate_user(
                actor,
                context.audit,
                organization_id=_uuid(input.organization_id, "Organization"),
                user_id=_uuid(input.user_id, "User"),
            )
        except DomainAccountError as error:
            return AccountError.from_domain(error)
        return DeactivateUserSuccess(user=user_from_record(user))

    @strawberry.mutation(description="Add a clinician of your organization to the directory.")
    async def create_provider(self, info: Info, input: CreateProviderInput) -> CreateProviderResult:
        context = info.context
        actor = context.require_actor()
        if len(input.specialty_codes) > MAX_SPECIALTIES:
            problems = InvalidInput()
            problems.add("specialtyCodes", "TOO_MANY", f"At most {MAX_SPECIALTIES} specialties.")
            return InputError.from_domain(problems)
        try:
            provider_id = await service.create_provider(
                actor,
                context.audit,
                organization_id=_uuid(input.organization_id, "Organization"),
                npi=input.npi,
                display_name=input.display_name,
                specialty_codes=input.specialty_codes,
                user_id=_uuid(input.user_id, "User") if input.user_id else None,
                accepting_new_patients=input.accepting_new_patients,
            )
        except DomainAccountError as error:
            return AccountError.from_domain(error)
        except InvalidInput as error:
            return InputError.from_domain(error)
        rows = await repository.providers_by_ids([provider_id])
        return CreateProviderSuccess(provider=provider_from_record(rows[0]))
