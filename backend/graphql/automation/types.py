"""GraphQL types of automation: a referral's pending automated steps (its escalation ladder)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.dataloader import DataLoader

from backend.automation import records, repository
from backend.graphql.protocols.types import Audience, AutomationRule
from backend.protocols.codes import Audience as DomainAudience
from backend.protocols.codes import AutomationRule as DomainAutomationRule


@strawberry.type(description="A step the system will take on a referral by itself, and when.")
class AutomatedStep:
    rule: AutomationRule  # type: ignore[valid-type]
    due_at: datetime = strawberry.field(
        description="When it will be sent (the app can say 'reminder at 14:00')."
    )
    deadline: datetime | None = strawberry.field(description="The deadline it is about, when there is one.")
    audience: Audience = strawberry.field(description="Who it will tell.")  # type: ignore[valid-type]


def step_from_record(step: records.Step) -> AutomatedStep:
    return AutomatedStep(
        rule=DomainAutomationRule(step.rule),
        due_at=step.due_at,
        deadline=step.deadline,
        audience=DomainAudience(step.audience),
    )


async def _pending(referral_ids: Sequence[UUID]) -> list[list[records.Step]]:
    found = await repository.pending_of_referrals(list(referral_ids))
    return [found.get(referral_id, []) for referral_id in referral_ids]


def pending_steps_loader() -> DataLoader[UUID, list[records.Step]]:
    """Each referral's pending steps, soonest first: one statement per page of referrals."""
    return DataLoader(load_fn=_pending)
