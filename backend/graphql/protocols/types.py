"""GraphQL types for protocols: requirements and SLA policy of one version."""

from __future__ import annotations

from uuid import UUID

import strawberry

from backend.graphql.accounts.types import Specialty
from backend.graphql.common import to_global_id
from backend.graphql.context import Info
from backend.graphql.referrals import dataloaders
from backend.protocols import records
from backend.protocols.codes import Audience as DomainAudience
from backend.protocols.codes import AutomationRule as DomainAutomationRule
from backend.protocols.codes import DocumentKind as DomainDocumentKind
from backend.protocols.codes import RequiredField as DomainRequiredField
from backend.protocols.ladder import RULES, Rung
from backend.protocols.policy import policy_from_record
from backend.referrals.lifecycle import Priority as DomainPriority

AutomationRule = strawberry.enum(
    DomainAutomationRule, description="A step the system takes on a referral by itself (SPEC §8)."
)
Audience = strawberry.enum(DomainAudience, description="Who an automated step tells.")
RequiredField = strawberry.enum(DomainRequiredField)
DocumentKind = strawberry.enum(DomainDocumentKind)
Priority = strawberry.enum(DomainPriority)


@strawberry.type(description="Deadlines for one priority: respond within hours, schedule within days.")
class SlaPolicy:
    priority: Priority  # type: ignore[valid-type]
    respond_within_hours: int
    schedule_within_days: int


@strawberry.type(
    description="One rung of an escalation ladder: what the system does, when, and whom it tells."
)
class EscalationRung:
    rule: AutomationRule  # type: ignore[valid-type]
    percent_of_window: int | None = strawberry.field(
        description="RESPOND_REMINDER: when this share of the respond window has passed (1-99)."
    )
    after_minutes: int | None = strawberry.field(
        description="Every other rule: minutes after its anchor (respond-by, schedule-by, or the "
        "moment the referral entered NEEDS_INFO, NO_SHOW or VISIT_COMPLETED)."
    )
    audience: Audience  # type: ignore[valid-type]


@strawberry.type(description="The escalation ladder for one priority; expiry is always its last rung.")
class EscalationLadder:
    priority: Priority  # type: ignore[valid-type]
    rungs: list[EscalationRung]


@strawberry.type(description="One version of an organization's protocol for a specialty.")
class Protocol:
    id: strawberry.ID
    name: str
    version: int
    required_fields: list[RequiredField]  # type: ignore[valid-type]
    required_attachment_kinds: list[DocumentKind]  # type: ignore[valid-type]
    sla: list[SlaPolicy]
    valid_days: int
    ladder: list[EscalationLadder]
    specialty_id: strawberry.Private[UUID]

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty:
        row = await info.context.loader("specialty", dataloaders.specialty_loader).load(self.specialty_id)
        assert row is not None
        return Specialty(code=row.code, name=row.name)


def protocol_from_record(row: records.NamedProtocolVersion) -> Protocol:
    policy = policy_from_record(row)
    return Protocol(
        id=to_global_id("ProtocolVersion", row.id),
        name=row.protocol_name,
        version=row.version,
        required_fields=list(policy.required_fields),
        required_attachment_kinds=list(policy.required_attachment_kinds),
        sla=[
            SlaPolicy(
                priority=priority,
                respond_within_hours=deadline.respond_hours,
                schedule_within_days=deadline.schedule_days,
            )
            for priority, deadline in policy.sla
        ],
        valid_days=policy.valid_days,
        ladder=[
            EscalationLadder(priority=priority, rungs=[rung_from_domain(rung) for rung in rungs])
            for priority, rungs in policy.ladder
        ],
        specialty_id=row.protocol_specialty,
    )


def rung_from_domain(rung: Rung) -> EscalationRung:
    respond = rung.rule == DomainAutomationRule.RESPOND_REMINDER
    return EscalationRung(
        rule=rung.rule,
        percent_of_window=rung.percent_of_window if respond else None,
        after_minutes=None if respond else rung.after_minutes,
        audience=RULES[rung.rule].audience,
    )
