"""Inputs of account mutations."""

from __future__ import annotations

import strawberry

from backend.graphql.accounts.types import Role


@strawberry.input
class InviteUserInput:
    organization_id: strawberry.ID
    email: str
    display_name: str
    roles: list[Role]  # type: ignore[valid-type]


@strawberry.input
class SetMembershipRolesInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID
    roles: list[Role] = strawberry.field(description="The complete new set; empty removes the membership.")  # type: ignore[valid-type]


@strawberry.input
class DeactivateUserInput:
    organization_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.input
class CreateProviderInput:
    organization_id: strawberry.ID
    npi: str
    display_name: str
    specialty_codes: list[str]
    user_id: strawberry.ID | None = None
    accepting_new_patients: bool = True
