"""Protocol queries: what an organization requires with referrals, per specialty."""

from __future__ import annotations

import strawberry

from backend.graphql.common import uuid_of
from backend.graphql.context import Info
from backend.graphql.protocols.types import AutomationRule, Priority, Protocol, protocol_from_record
from backend.protocols import service


@strawberry.input
class SlaPolicyInput:
    priority: Priority  # type: ignore[valid-type]
    respond_within_hours: int
    schedule_within_days: int


@strawberry.input(description="One rung: give percentOfWindow for RESPOND_REMINDER, afterMinutes otherwise.")
class EscalationRungInput:
    rule: AutomationRule  # type: ignore[valid-type]
    percent_of_window: int | None = None
    after_minutes: int | None = None


@strawberry.input(description="The rungs for one priority (an empty list: no automated steps but expiry).")
class EscalationLadderInput:
    priority: Priority  # type: ignore[valid-type]
    rungs: list[EscalationRungInput]


@strawberry.type
class ProtocolQueries:
    @strawberry.field(description="The current protocols of an organization (what to send it).")
    async def protocols(self, info: Info, organization_id: strawberry.ID) -> list[Protocol]:
        actor = info.context.require_actor()
        raw_id = uuid_of(organization_id, "Organization")
        if raw_id is None:
            return []
        return [protocol_from_record(row) for row in await service.protocols_of_organization(actor, raw_id)]
