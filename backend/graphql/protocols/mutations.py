"""Protocol mutations: referral managers save a new version of their organization's protocol."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.core.errors import InvalidInput
from backend.graphql.common import Error, InputError, uuid_of
from backend.graphql.context import Info
from backend.graphql.protocols.queries import EscalationLadderInput, SlaPolicyInput
from backend.graphql.protocols.types import DocumentKind, Protocol, RequiredField, protocol_from_record
from backend.protocols import service
from backend.protocols.codes import AutomationRule as DomainAutomationRule
from backend.protocols.codes import DocumentKind as DomainDocumentKind
from backend.protocols.codes import RequiredField as DomainRequiredField
from backend.protocols.errors import ProtocolError as DomainProtocolError
from backend.protocols.errors import ProtocolErrorCode as DomainProtocolErrorCode
from backend.protocols.ladder import Rung
from backend.protocols.limits import MAX_RUNGS_PER_PRIORITY
from backend.protocols.policy import DEFAULT_VALID_DAYS, Deadline
from backend.referrals.lifecycle import Priority

ProtocolErrorCode = strawberry.enum(DomainProtocolErrorCode)


@strawberry.type(description="A protocol change was refused.")
class ProtocolError(Error):
    code: ProtocolErrorCode  # type: ignore[valid-type]
    message: str


@strawberry.input
class SaveProtocolInput:
    organization_id: strawberry.ID
    specialty_code: str
    name: str
    required_fields: list[RequiredField]  # type: ignore[valid-type]
    required_attachment_kinds: list[DocumentKind]  # type: ignore[valid-type]
    sla: list[SlaPolicyInput]
    valid_days: int = DEFAULT_VALID_DAYS
    ladder: list[EscalationLadderInput] | None = strawberry.field(
        default=None,
        description="The escalation ladder per priority; a priority left out (or no ladder) gets "
        "the default rungs.",
    )


@strawberry.type
class SaveProtocolSuccess:
    protocol: Protocol


SaveProtocolResult = Annotated[
    SaveProtocolSuccess | ProtocolError | InputError, strawberry.union("SaveProtocolResult")
]


@strawberry.type
class ProtocolMutations:
    @strawberry.mutation(
        description="Referral managers: save a new version of the protocol for a specialty. "
        "Referrals already sent keep the version they were sent under."
    )
    async def save_protocol(self, info: Info, input: SaveProtocolInput) -> SaveProtocolResult:
        actor = info.context.require_actor()
        organization_id = uuid_of(input.organization_id, "Organization")
        try:
            if organization_id is None:
                raise DomainProtocolError(DomainProtocolErrorCode.NOT_FOUND, "Not found.")
            problems = InvalidInput()
            if len(input.sla) > len(Priority):
                problems.add("sla", "TOO_MANY", "One entry per priority.")
            if input.ladder is not None and len(input.ladder) > len(Priority):
                problems.add("ladder", "TOO_MANY", "One entry per priority.")
            if input.ladder is not None and any(
                len(entry.rungs) > MAX_RUNGS_PER_PRIORITY for entry in input.ladder
            ):
                problems.add("ladder", "TOO_MANY", f"At most {MAX_RUNGS_PER_PRIORITY} rungs per priority.")
            problems.raise_if_any()
            row = await service.save_protocol(
                actor,
                info.context.audit,
                organization_id=organization_id,
                specialty_code=input.specialty_code,
                name=input.name,
                required_fields=[DomainRequiredField(f) for f in input.required_fields],
                required_attachment_kinds=[DomainDocumentKind(k) for k in input.required_attachment_kinds],
                sla={
                    Priority(p.priority): Deadline(p.respond_within_hours, p.schedule_within_days)
                    for p in input.sla
                },
                valid_days=input.valid_days,
                ladder=_ladder(input.ladder),
            )
        except DomainProtocolError as error:
            return ProtocolError(code=error.code, message=error.message)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return SaveProtocolSuccess(protocol=protocol_from_record(row))


def _ladder(entries: list[EscalationLadderInput] | None) -> dict[Priority, tuple[Rung, ...]] | None:
    if entries is None:
        return None
    return {
        Priority(entry.priority): tuple(
            Rung(
                DomainAutomationRule(rung.rule),
                percent_of_window=rung.percent_of_window,
                after_minutes=rung.after_minutes or 0,
            )
            for rung in entry.rungs
        )
        for entry in entries
    }
