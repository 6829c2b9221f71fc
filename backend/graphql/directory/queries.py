"""Directory queries: insurance plans and receiving-provider search."""

from __future__ import annotations

import strawberry

from backend.core.errors import InvalidInput
from backend.directory import repository, service
from backend.directory.limits import MAX_RESULTS
from backend.graphql.accounts.types import provider_from_record
from backend.graphql.common import uuid_of
from backend.graphql.context import Info
from backend.graphql.directory.types import InsurancePlan, ProviderMatch, plan_from_record
from backend.graphql.errors import bad_user_input


@strawberry.input
class ProviderSearchInput:
    organization_id: strawberry.ID = strawberry.field(description="The sending organization (for network).")
    specialty_code: str
    insurance_plan_id: strawberry.ID | None = None
    accepting_new_patients_only: bool = True
    near_latitude: float | None = None
    near_longitude: float | None = None
    first: int = 20


@strawberry.type
class DirectoryQueries:
    @strawberry.field(description="Every insurance plan the directory knows.")
    async def insurance_plans(self, info: Info) -> list[InsurancePlan]:
        info.context.require_actor()
        return [plan_from_record(row) for row in await repository.all_plans()]

    @strawberry.field(
        description="Receiving providers for a specialty: in-network first, then accepting new "
        "patients, then nearest (when coordinates are given), then name."
    )
    async def provider_search(self, info: Info, input: ProviderSearchInput) -> list[ProviderMatch]:
        actor = info.context.require_actor()
        if not 1 <= input.first <= MAX_RESULTS:
            raise bad_user_input(f"`first` must be between 1 and {MAX_RESULTS}.", "first")
        organization_id = uuid_of(input.organization_id, "Organization")
        plan_id = uuid_of(input.insurance_plan_id, "InsurancePlan") if input.insurance_plan_id else None
        if organization_id is None or (input.insurance_plan_id and plan_id is None):
            raise bad_user_input("Unknown organization or insurance plan id.", "input")
        near = None
        if input.near_latitude is not None and input.near_longitude is not None:
            near = (input.near_latitude, input.near_longitude)
        try:
            matches = await service.search_providers(
                actor,
                for_organization_id=organization_id,
                specialty_code=input.specialty_code,
                plan_id=plan_id,
                accepting_only=input.accepting_new_patients_only,
                near=near,
                limit=input.first,
            )
        except InvalidInput as error:
            raise bad_user_input(error.problems[0].message, f"input.{error.problems[0].field}") from None
        return [
            ProviderMatch(
                provider=provider_from_record(m.provider),
                network_status=m.network_status,
                distance_km=m.distance_km,
            )
            for m in matches
        ]
