"""GraphQL types for the directory: insurance plans and provider search matches."""

from __future__ import annotations

from uuid import UUID

import strawberry

from backend.directory import records
from backend.directory.codes import NetworkStatus as DomainNetworkStatus
from backend.graphql.accounts.types import Provider
from backend.graphql.common import Node, to_global_id

NetworkStatus = strawberry.enum(
    DomainNetworkStatus, description="Whether a receiver is in the sending organization's network."
)


@strawberry.type
class InsurancePlan(Node):
    id: strawberry.ID
    code: str
    payer: str
    name: str
    raw_id: strawberry.Private[UUID]


@strawberry.type(description="A provider who can take the patient, with why they rank where they do.")
class ProviderMatch:
    provider: Provider
    network_status: NetworkStatus  # type: ignore[valid-type]
    distance_km: float | None = strawberry.field(
        description="From the point searched near, when both sides have coordinates."
    )


def plan_from_record(row: records.InsurancePlan) -> InsurancePlan:
    return InsurancePlan(
        id=to_global_id("InsurancePlan", row.id),
        code=row.code,
        payer=row.payer,
        name=row.name,
        raw_id=row.id,
    )
