"""Referral mutations: parse ids and uploads, call one service function, map the outcome.

Every mutation answers ``ReferralChangeResult``: the referral as it now is (with the actions
the caller may take next), a ``ReferralError`` with a code, or an ``InputError`` per field.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Protocol
from uuid import UUID

import strawberry

from backend.accounts.actor import Actor
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.graphql.common import Error, InputError, optional_id, uuid_of
from backend.graphql.context import Info
from backend.graphql.referrals import inputs
from backend.graphql.referrals.types import Referral, ReferralAction, ReferralStatus, referral_from_outcome
from backend.protocols.codes import DocumentKind
from backend.referrals import service
from backend.referrals.errors import ReferralError as DomainReferralError
from backend.referrals.errors import ReferralErrorCode as DomainReferralErrorCode
from backend.referrals.errors import not_found
from backend.referrals.lifecycle import Priority
from backend.referrals.limits import MAX_ATTACHMENTS_PER_CALL, MAX_DOCUMENT_BYTES
from backend.referrals.service import Change, ClinicalContent, NewDocument, Outcome

ReferralErrorCode = strawberry.enum(DomainReferralErrorCode)


@strawberry.type(description="A referral change was refused; nothing was written.")
class ReferralError(Error):
    code: ReferralErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None
    current_status: ReferralStatus | None  # type: ignore[valid-type]
    current_version: int | None
    allowed_actions: list[ReferralAction] = strawberry.field(  # type: ignore[valid-type]
        description="What you may do in the current status."
    )
    missing_items: list[str] = strawberry.field(
        description="For MISSING_REQUIRED_ITEMS: every `FIELD:…` and `ATTACHMENT:…` still needed."
    )
    appointment_starts_at: datetime | None = strawberry.field(
        default=None, description="For VISIT_NOT_STARTED: when the booked appointment starts."
    )

    @classmethod
    def from_domain(cls, error: DomainReferralError) -> ReferralError:
        return cls(
            code=error.code,
            message=error.message,
            field=error.field,
            current_status=error.current_status,
            current_version=error.current_version,
            allowed_actions=error.allowed_actions,
            missing_items=error.missing_items,
            appointment_starts_at=error.appointment_starts_at,
        )


@strawberry.type
class ReferralChangeSuccess:
    referral: Referral


ReferralChangeResult = Annotated[
    ReferralChangeSuccess | ReferralError | InputError, strawberry.union("ReferralChangeResult")
]


def _referral_id(global_id: str) -> UUID:
    parsed = uuid_of(global_id, "Referral")
    if parsed is None:
        raise not_found()
    return parsed


class ChangeFields(Protocol):
    referral_id: strawberry.ID
    version: int
    idempotency_key: str


def _change(data: ChangeFields) -> Change:
    return Change(
        referral_id=_referral_id(data.referral_id),
        version=data.version,
        idempotency_key=data.idempotency_key,
    )


def _document(upload: inputs.DocumentUpload, field_name: str) -> NewDocument:
    problems = InvalidInput()
    if len(upload.content_base64) > (MAX_DOCUMENT_BYTES * 4) // 3 + 8:
        problems.add(
            f"{field_name}.content", "TOO_LARGE", f"At most {MAX_DOCUMENT_BYTES // 1024} KiB per document."
        )
        raise problems
    try:
        content = base64.b64decode(upload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        problems.add(f"{field_name}.contentBase64", "INVALID_BASE64", "Not valid base64.")
        raise problems from None
    return NewDocument(
        kind=DocumentKind(upload.kind),
        media_type=upload.media_type.strip().lower(),
        filename=upload.filename,
        content=content,
    )


async def _run(info: Info, call: Callable[[Actor], Awaitable[Outcome]]) -> ReferralChangeResult:
    actor = info.context.require_actor()
    try:
        outcome = await call(actor)
    except DomainReferralError as error:
        return ReferralError.from_domain(error)
    except InvalidInput as error:
        return InputError.from_domain(error)
    return ReferralChangeSuccess(referral=referral_from_outcome(outcome, utcnow()))


@strawberry.type
class ReferralMutations:
    @strawberry.mutation(description="Start a referral as a draft.")
    async def create_referral(self, info: Info, input: inputs.CreateReferralInput) -> ReferralChangeResult:
        audit = info.context.audit

        async def call(actor: Actor) -> Outcome:
            patient_id = optional_id(input.patient_id, "Patient", "patientId")
            assert patient_id is not None
            draft = service.NewReferral(
                patient_id=patient_id,
                specialty_code=input.specialty_code,
                priority=Priority(input.priority),
                content=ClinicalContent(
                    input.reason, input.clinical_question, input.relevant_history, tuple(input.diagnoses)
                ),
                referring_provider_id=optional_id(
                    input.referring_provider_id, "Provider", "referringProviderId"
                ),
                receiving_provider_id=optional_id(
                    input.receiving_provider_id, "Provider", "receivingProviderId"
                ),
                receiving_organization_id=optional_id(
                    input.receiving_organization_id, "Organization", "receivingOrganizationId"
                ),
                out_of_network_reason=input.out_of_network_reason,
            )
            return await service.create_referral(actor, audit, input.idempotency_key, draft)

        return await _run(info, call)

    @strawberry.mutation(description="Change a draft's clinical content.")
    async def edit_referral_draft(
        self, info: Info, input: inputs.EditReferralDraftInput
    ) -> ReferralChangeResult:
        edit = service.DraftEdit(
            reason=input.reason,
            clinical_question=input.clinical_question,
            relevant_history=input.relevant_history,
            diagnoses=None if input.diagnoses is None else tuple(input.diagnoses),
            out_of_network_reason=input.out_of_network_reason,
        )
        return await _run(info, lambda v: service.edit_draft(v, info.context.audit, _change(input), edit))

    @strawberry.mutation(description="Send a draft; fails listing every item the protocol still needs.")
    async def send_referral(self, info: Info, input: inputs.ReferralChangeInput) -> ReferralChangeResult:
        return await _run(info, lambda v: service.send(v, info.context.audit, _change(input)))

    @strawberry.mutation(description="Coordinators: assign a queue referral to a specialist.")
    async def route_referral(self, info: Info, input: inputs.RouteReferralInput) -> ReferralChangeResult:
        async def call(actor: Actor) -> Outcome:
            provider_id = optional_id(input.provider_id, "Provider", "providerId")
            assert provider_id is not None
            return await service.route(actor, info.context.audit, _change(input), provider_id)

        return await _run(info, call)

    @strawberry.mutation(description="The receiving specialist starts reviewing.")
    async def claim_referral(self, info: Info, input: inputs.ReferralChangeInput) -> ReferralChangeResult:
        return await _run(info, lambda v: service.claim(v, info.context.audit, _change(input)))

    @strawberry.mutation(description="Ask the referrer a question (note required); the clock pauses.")
    async def request_referral_info(
        self, info: Info, input: inputs.ReferralNoteInput
    ) -> ReferralChangeResult:
        return await _run(
            info, lambda v: service.request_info(v, info.context.audit, _change(input), input.note)
        )

    @strawberry.mutation(description="Answer the receiver's question (note required).")
    async def provide_referral_info(
        self, info: Info, input: inputs.ReferralNoteInput
    ) -> ReferralChangeResult:
        return await _run(
            info, lambda v: service.provide_info(v, info.context.audit, _change(input), input.note)
        )

    @strawberry.mutation
    async def accept_referral(self, info: Info, input: inputs.ReferralNoteInput) -> ReferralChangeResult:
        return await _run(info, lambda v: service.accept(v, info.context.audit, _change(input), input.note))

    @strawberry.mutation(description="Decline with a coded reason, optionally suggesting another provider.")
    async def decline_referral(self, info: Info, input: inputs.DeclineReferralInput) -> ReferralChangeResult:
        async def call(actor: Actor) -> Outcome:
            suggested = optional_id(input.suggested_provider_id, "Provider", "suggestedProviderId")
            return await service.decline(
                actor,
                info.context.audit,
                _change(input),
                reason=input.reason,
                note=input.note,
                suggested_provider_id=suggested,
            )

        return await _run(info, call)

    @strawberry.mutation(description="Cancel with a coded reason (PATIENT_WENT_ELSEWHERE marks leakage).")
    async def cancel_referral(self, info: Info, input: inputs.CancelReferralInput) -> ReferralChangeResult:
        return await _run(
            info, lambda v: service.cancel(v, info.context.audit, _change(input), input.reason, input.note)
        )

    @strawberry.mutation(description="Book the appointment (accepted or no-show referrals).")
    async def schedule_appointment(self, info: Info, input: inputs.AppointmentInput) -> ReferralChangeResult:
        return await _run(
            info, lambda v: service.schedule(v, info.context.audit, _change(input), _slot(input))
        )

    @strawberry.mutation
    async def reschedule_appointment(
        self, info: Info, input: inputs.AppointmentInput
    ) -> ReferralChangeResult:
        return await _run(
            info, lambda v: service.reschedule(v, info.context.audit, _change(input), _slot(input))
        )

    @strawberry.mutation(description="Cancel the booked appointment; the referral waits to be rebooked.")
    async def cancel_appointment(self, info: Info, input: inputs.ReferralChangeInput) -> ReferralChangeResult:
        return await _run(info, lambda v: service.cancel_appointment(v, info.context.audit, _change(input)))

    @strawberry.mutation
    async def mark_no_show(self, info: Info, input: inputs.ReferralChangeInput) -> ReferralChangeResult:
        return await _run(info, lambda v: service.mark_no_show(v, info.context.audit, _change(input)))

    @strawberry.mutation(
        description="The visit took place. Refused with VISIT_NOT_STARTED before the booked appointment's "
        "start unless `earlyVisitReason` says why it came early."
    )
    async def complete_visit(
        self,
        info: Info,
        input: inputs.ReferralChangeInput,
        early_visit_reason: Annotated[
            str | None,
            strawberry.argument(
                description="Why the visit is completed before the appointment's start (at most "
                "2000 characters); kept as the timeline entry's note."
            ),
        ] = None,
    ) -> ReferralChangeResult:
        return await _run(
            info,
            lambda v: service.complete_visit(v, info.context.audit, _change(input), early_visit_reason),
        )

    @strawberry.mutation(description="Send the outcome (consult report and attachments): closes the loop.")
    async def close_referral(self, info: Info, input: inputs.CloseReferralInput) -> ReferralChangeResult:
        async def call(actor: Actor) -> Outcome:
            if len(input.attachments) > MAX_ATTACHMENTS_PER_CALL:
                problems = InvalidInput()
                problems.add("attachments", "TOO_MANY", f"At most {MAX_ATTACHMENTS_PER_CALL} per call.")
                raise problems
            attachments = [_document(a, f"attachments.{i}") for i, a in enumerate(input.attachments)]
            return await service.close(actor, info.context.audit, _change(input), input.report, attachments)

        return await _run(info, call)

    @strawberry.mutation(description="After a decline: a new linked draft to another receiver.")
    async def redirect_referral(
        self, info: Info, input: inputs.RedirectReferralInput
    ) -> ReferralChangeResult:
        async def call(actor: Actor) -> Outcome:
            return await service.redirect(
                actor,
                info.context.audit,
                _change(input),
                receiving_provider_id=optional_id(
                    input.receiving_provider_id, "Provider", "receivingProviderId"
                ),
                receiving_organization_id=optional_id(
                    input.receiving_organization_id, "Organization", "receivingOrganizationId"
                ),
            )

        return await _run(info, call)

    @strawberry.mutation
    async def add_referral_document(
        self, info: Info, input: inputs.AddReferralDocumentInput
    ) -> ReferralChangeResult:
        async def call(actor: Actor) -> Outcome:
            document = _document(input.document, "document")
            return await service.add_document(actor, info.context.audit, _change(input), document)

        return await _run(info, call)

    @strawberry.mutation(description="Coordinators: record the insurance verification result.")
    async def update_insurance_verification(
        self, info: Info, input: inputs.UpdateInsuranceInput
    ) -> ReferralChangeResult:
        return await _run(
            info,
            lambda v: service.update_insurance(
                v, info.context.audit, _change(input), input.status, input.note
            ),
        )

    @strawberry.mutation(description="Coordinators: record the prior-authorization state.")
    async def update_prior_authorization(
        self, info: Info, input: inputs.UpdatePriorAuthInput
    ) -> ReferralChangeResult:
        return await _run(
            info,
            lambda v: service.update_prior_auth(
                v,
                info.context.audit,
                _change(input),
                status=input.status,
                payer_reference=input.payer_reference,
                decision_due=input.decision_due,
            ),
        )


def _slot(input: inputs.AppointmentInput) -> service.AppointmentSlot:
    return service.AppointmentSlot(
        starts_at=input.starts_at,
        location=input.location,
        provider_id=optional_id(input.provider_id, "Provider", "providerId"),
    )
