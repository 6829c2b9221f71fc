"""GraphQL types for referrals: the referral, its timeline, documents, appointment, checklist.

Nested objects (patient, providers, organizations, specialty, timeline, documents, appointment,
protocol) come through per-request DataLoaders, so a page of referrals costs a fixed number of
statements whatever its size.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from backend.graphql.accounts.types import (
    Organization,
    Provider,
    Specialty,
    load_organization,
    provider_from_record,
)
from backend.graphql.automation.types import AutomatedStep, pending_steps_loader, step_from_record
from backend.graphql.common import Node, PageInfo, to_global_id
from backend.graphql.context import Info
from backend.graphql.directory.types import NetworkStatus
from backend.graphql.patients.types import Patient, patient_from_record
from backend.graphql.protocols.types import DocumentKind, Priority, Protocol, protocol_from_record
from backend.graphql.referrals import dataloaders
from backend.graphql.surveys.types import Survey, load_survey
from backend.patients import service as patient_service
from backend.protocols import records as protocols_records
from backend.protocols.policy import policy_from_record
from backend.referrals import records as referral_records
from backend.referrals.codes import AppointmentStatus as DomainAppointmentStatus
from backend.referrals.codes import CancelReason as DomainCancelReason
from backend.referrals.codes import DeclineReason as DomainDeclineReason
from backend.referrals.codes import InboxView as DomainInboxView
from backend.referrals.codes import InsuranceStatus as DomainInsuranceStatus
from backend.referrals.codes import PriorAuthStatus as DomainPriorAuthStatus
from backend.referrals.lifecycle import FHIR_TASK_STATUS
from backend.referrals.lifecycle import Action as DomainAction
from backend.referrals.lifecycle import Status as DomainStatus
from backend.referrals.service import NO_DEADLINE, Outcome, diagnoses_of

ReferralStatus = strawberry.enum(DomainStatus, description="Canonical referral status (SPEC §2).")
ReferralAction = strawberry.enum(DomainAction, description="Something a user may do to a referral.")
DeclineReason = strawberry.enum(DomainDeclineReason)
CancelReason = strawberry.enum(DomainCancelReason)
InsuranceStatus = strawberry.enum(DomainInsuranceStatus)
PriorAuthStatus = strawberry.enum(DomainPriorAuthStatus)
AppointmentStatus = strawberry.enum(DomainAppointmentStatus)
InboxView = strawberry.enum(DomainInboxView)


@strawberry.type(description="One change in the referral's life: who, when, from, to, why.")
class ReferralEvent:
    id: strawberry.ID
    action: str
    from_status: ReferralStatus | None  # type: ignore[valid-type]
    to_status: ReferralStatus  # type: ignore[valid-type]
    reason_code: str | None
    note: str
    occurred_at: datetime
    actor_id: strawberry.Private[UUID | None]

    @strawberry.field(description="Who did it; null for the system (e.g. expiry).")
    async def actor_name(self, info: Info) -> str | None:
        if self.actor_id is None:
            return None
        row = await info.context.loader("user", dataloaders.user_loader).load(self.actor_id)
        return row.display_name if row else None


@strawberry.type(description="A document's metadata; fetch its content with `document(id:)`.")
class Document(Node):
    id: strawberry.ID
    kind: DocumentKind  # type: ignore[valid-type]
    media_type: str
    filename: str
    size_bytes: int
    sha256: str
    is_outcome: bool = strawberry.field(description="Part of the outcome that closed the loop.")
    created_at: datetime
    source_message_id: strawberry.ID | None = strawberry.field(
        default=None, description="Provenance: the secure message it was promoted from."
    )
    linked_document_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Carried over by `redirectReferral`: the declined referral's document this one "
        "shows (the same content, readable through this referral).",
    )


@strawberry.type
class Appointment:
    id: strawberry.ID
    starts_at: datetime
    location: str
    status: AppointmentStatus  # type: ignore[valid-type]
    provider_id: strawberry.Private[UUID | None]

    @strawberry.field
    async def provider(self, info: Info) -> Provider | None:
        return await _load_provider(info, self.provider_id)


@strawberry.type(description="Insurance verification track.")
class InsuranceVerification:
    status: InsuranceStatus  # type: ignore[valid-type]


@strawberry.type(description="Prior-authorization track.")
class PriorAuthorization:
    status: PriorAuthStatus  # type: ignore[valid-type]
    payer_reference: str | None
    decision_due: datetime | None


@strawberry.type(description="One item the protocol requires, and whether the referral has it.")
class ChecklistItem:
    item: str = strawberry.field(description="`FIELD:<RequiredField>` or `ATTACHMENT:<DocumentKind>`.")
    satisfied: bool


@strawberry.type
class Referral(Node):
    id: strawberry.ID
    version: int = strawberry.field(description="Send it back with every change (optimistic concurrency).")
    status: ReferralStatus  # type: ignore[valid-type]
    fhir_task_status: str
    priority: Priority  # type: ignore[valid-type]
    reason: str
    clinical_question: str
    relevant_history: str
    diagnoses: list[str]
    network_status: NetworkStatus  # type: ignore[valid-type]
    out_of_network_reason: str
    insurance: InsuranceVerification
    prior_authorization: PriorAuthorization
    status_reason: str | None = strawberry.field(description="Decline or cancel reason code.")
    outcome_report: str | None
    sent_at: datetime | None
    respond_by: datetime | None
    schedule_by: datetime | None
    expires_at: datetime | None
    due_at: datetime | None = strawberry.field(description="The deadline the inbox sorts by.")
    is_overdue: bool
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    allowed_actions: list[ReferralAction] = strawberry.field(  # type: ignore[valid-type]
        description="What you may do now: draw these buttons, nothing else."
    )
    record: strawberry.Private[referral_records.Referral]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        patient = await info.context.loader("patient", dataloaders.patient_loader).load(self.record.patient)
        assert patient is not None
        patient_service.audit_reads(info.context.require_actor(), info.context.audit, [patient])
        return patient_from_record(patient)

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty:
        row = await info.context.loader("specialty", dataloaders.specialty_loader).load(self.record.specialty)
        assert row is not None
        return Specialty(code=row.code, name=row.name)

    @strawberry.field
    async def referring_provider(self, info: Info) -> Provider:
        provider = await _load_provider(info, self.record.referring_provider)
        assert provider is not None
        return provider

    @strawberry.field
    async def referring_organization(self, info: Info) -> Organization:
        return await load_organization(info, self.record.referring_organization)

    @strawberry.field(description="Null while the referral waits in the receiving organization's queue.")
    async def receiving_provider(self, info: Info) -> Provider | None:
        return await _load_provider(info, self.record.receiving_provider)

    @strawberry.field
    async def receiving_organization(self, info: Info) -> Organization:
        return await load_organization(info, self.record.receiving_organization)

    @strawberry.field
    async def suggested_provider(self, info: Info) -> Provider | None:
        return await _load_provider(info, self.record.suggested_provider)

    @strawberry.field(description="The declined referral this one was redirected from.")
    def redirected_from_id(self) -> strawberry.ID | None:
        source = self.record.redirected_from
        return to_global_id("Referral", source) if source else None

    @strawberry.field(
        description="The next reminder, escalation or expiry the system will send by itself, and "
        "when (null: nothing pending). Reminders and escalations come from the protocol's "
        "escalation ladder for the referral's priority."
    )
    async def next_automated_step(self, info: Info) -> AutomatedStep | None:
        steps = await info.context.loader("automated_steps", pending_steps_loader).load(self.record.id)
        return step_from_record(steps[0]) if steps else None

    @strawberry.field(description="Every step the system has planned for the referral, soonest first.")
    async def pending_automated_steps(self, info: Info) -> list[AutomatedStep]:
        steps = await info.context.loader("automated_steps", pending_steps_loader).load(self.record.id)
        return [step_from_record(step) for step in steps]

    @strawberry.field(description="Oldest first.")
    async def timeline(self, info: Info) -> list[ReferralEvent]:
        events = await info.context.loader("events", dataloaders.events_loader).load(self.record.id)
        return [event_from_record(event) for event in events]

    @strawberry.field
    async def documents(self, info: Info) -> list[Document]:
        documents = await info.context.loader("documents", dataloaders.documents_loader).load(self.record.id)
        return [document_from_record(document) for document in documents]

    @strawberry.field(description="The latest appointment, booked or not.")
    async def appointment(self, info: Info) -> Appointment | None:
        appointment = await info.context.loader("appointment", dataloaders.appointment_loader).load(
            self.record.id
        )
        return appointment_from_record(appointment) if appointment else None

    @strawberry.field(description="The post-visit patient survey; null until the patient is invited.")
    async def survey(self, info: Info) -> Survey | None:
        return await load_survey(info, self.record)

    @strawberry.field(description="The protocol version the referral was sent under; null for drafts.")
    async def protocol(self, info: Info) -> Protocol | None:
        row = await _load_protocol(info, self.record)
        return protocol_from_record(row) if row else None

    @strawberry.field(description="What the protocol requires and whether each item is present.")
    async def checklist(self, info: Info) -> list[ChecklistItem]:
        row = await _load_protocol(info, self.record)
        if row is None:
            return []
        policy = policy_from_record(row)
        documents = await info.context.loader("documents", dataloaders.documents_loader).load(self.record.id)
        kinds = {d.kind for d in documents}
        present = {
            "REASON": bool(self.reason),
            "CLINICAL_QUESTION": bool(self.clinical_question),
            "RELEVANT_HISTORY": bool(self.relevant_history),
            "DIAGNOSES": bool(self.diagnoses),
        }
        return [
            *(
                ChecklistItem(item=f"FIELD:{f.value}", satisfied=present[f.value])
                for f in policy.required_fields
            ),
            *(
                ChecklistItem(item=f"ATTACHMENT:{k.value}", satisfied=k.value in kinds)
                for k in policy.required_attachment_kinds
            ),
        ]


async def _load_provider(info: Info, provider_id: UUID | None) -> Provider | None:
    if provider_id is None:
        return None
    row = await info.context.loader("provider", dataloaders.provider_loader).load(provider_id)
    return provider_from_record(row) if row else None


async def _load_protocol(
    info: Info, referral: referral_records.Referral
) -> protocols_records.NamedProtocolVersion | None:
    version_id = referral.protocol_version
    if version_id is None:
        return None
    row: protocols_records.NamedProtocolVersion | None = await info.context.loader(
        "protocol_version", dataloaders.protocol_version_loader
    ).load(version_id)
    return row


@strawberry.type
class ReferralEdge:
    cursor: str
    node: Referral


@strawberry.type
class ReferralConnection:
    edges: list[ReferralEdge]
    page_info: PageInfo


@strawberry.type(description="How many referrals are in one status (for badges).")
class StatusCount:
    status: ReferralStatus  # type: ignore[valid-type]
    count: int


def _deadline(value: datetime | None) -> datetime | None:
    return None if value is None or value >= NO_DEADLINE else value


def referral_from_outcome(outcome: Outcome, now: datetime) -> Referral:
    referral = outcome.referral
    status = DomainStatus(referral.status)
    due_at = _deadline(referral.due_at)
    return Referral(
        id=to_global_id("Referral", referral.id),
        version=referral.version,
        status=status,
        fhir_task_status=FHIR_TASK_STATUS[status],
        priority=referral.priority,
        reason=referral.reason,
        clinical_question=referral.clinical_question,
        relevant_history=referral.relevant_history,
        diagnoses=diagnoses_of(referral),
        network_status=referral.network_status,
        out_of_network_reason=referral.out_of_network_reason,
        insurance=InsuranceVerification(status=DomainInsuranceStatus(referral.insurance_status)),
        prior_authorization=PriorAuthorization(
            status=DomainPriorAuthStatus(referral.prior_auth_status),
            payer_reference=referral.prior_auth_reference,
            decision_due=referral.prior_auth_decision_due,
        ),
        status_reason=referral.status_reason,
        outcome_report=referral.outcome_report or None,
        sent_at=referral.sent_at,
        respond_by=referral.respond_by,
        schedule_by=referral.schedule_by,
        expires_at=referral.expires_at,
        due_at=due_at,
        is_overdue=due_at is not None and due_at < now,
        closed_at=referral.closed_at,
        created_at=referral.created_at,
        updated_at=referral.updated_at,
        allowed_actions=outcome.allowed_actions,
        record=referral,
    )


def event_from_record(event: referral_records.ReferralEvent) -> ReferralEvent:
    return ReferralEvent(
        id=to_global_id("ReferralEvent", str(event.id)),
        action=event.action,
        from_status=DomainStatus(event.from_status) if event.from_status else None,
        to_status=DomainStatus(event.to_status),
        reason_code=event.reason_code,
        note=event.note,
        occurred_at=event.occurred_at,
        actor_id=event.actor,
    )


def document_from_record(document: referral_records.Document) -> Document:
    return Document(
        id=to_global_id("Document", document.id),
        kind=document.kind,
        media_type=document.media_type,
        filename=document.filename,
        size_bytes=document.size_bytes,
        sha256=document.sha256,
        is_outcome=document.is_outcome,
        created_at=document.created_at,
        source_message_id=to_global_id("Message", document.source_message)
        if document.source_message
        else None,
        linked_document_id=to_global_id("Document", document.linked_document)
        if document.linked_document
        else None,
    )


def appointment_from_record(appointment: referral_records.Appointment) -> Appointment:
    return Appointment(
        id=to_global_id("Appointment", appointment.id),
        starts_at=appointment.starts_at,
        location=appointment.location,
        status=DomainAppointmentStatus(appointment.status),
        provider_id=appointment.provider,
    )
