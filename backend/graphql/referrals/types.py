"""GraphQL types for referrals: the referral, its timeline, documents, appointment, checklist.

Nested objects (patient, providers, organizations, specialty, timeline, documents, appointment,
protocol) come through per-request DataLoaders, so a page of referrals costs a fixed number of
statements whatever its size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from backend.graphql.accounts.types import (
    Organization,
    Provider,
    Specialty,
    load_organization,
    provider_from_row,
)
from backend.graphql.common import Node, PageInfo, to_global_id
from backend.graphql.context import Info
from backend.graphql.directory.types import NetworkStatus
from backend.graphql.patients.types import Patient, patient_from_row
from backend.graphql.protocols.types import DocumentKind, Priority, Protocol, protocol_from_row
from backend.graphql.referrals import dataloaders
from backend.patients import service as patient_service
from backend.protocols import records as protocols_records
from backend.protocols.policy import policy_from_row
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

Row = dict[str, Any]


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
    raw: strawberry.Private[Row]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        row = await info.context.loader("patient", dataloaders.patient_loader).load(self.raw["patient"])
        assert row is not None
        patient_service.audit_reads(info.context.require_actor(), info.context.audit, [row])
        return patient_from_row(row)

    @strawberry.field
    async def specialty(self, info: Info) -> Specialty:
        row = await info.context.loader("specialty", dataloaders.specialty_loader).load(self.raw["specialty"])
        assert row is not None
        return Specialty(code=row.code, name=row.name)

    @strawberry.field
    async def referring_provider(self, info: Info) -> Provider:
        provider = await _load_provider(info, self.raw["referring_provider"])
        assert provider is not None
        return provider

    @strawberry.field
    async def referring_organization(self, info: Info) -> Organization:
        return await load_organization(info, self.raw["referring_organization"])

    @strawberry.field(description="Null while the referral waits in the receiving organization's queue.")
    async def receiving_provider(self, info: Info) -> Provider | None:
        return await _load_provider(info, self.raw["receiving_provider"])

    @strawberry.field
    async def receiving_organization(self, info: Info) -> Organization:
        return await load_organization(info, self.raw["receiving_organization"])

    @strawberry.field
    async def suggested_provider(self, info: Info) -> Provider | None:
        return await _load_provider(info, self.raw["suggested_provider"])

    @strawberry.field(description="The declined referral this one was redirected from.")
    def redirected_from_id(self) -> strawberry.ID | None:
        source = self.raw["redirected_from"]
        return to_global_id("Referral", source) if source else None

    @strawberry.field(description="Oldest first.")
    async def timeline(self, info: Info) -> list[ReferralEvent]:
        rows = await info.context.loader("events", dataloaders.events_loader).load(self.raw["id"])
        return [event_from_row(row) for row in rows]

    @strawberry.field
    async def documents(self, info: Info) -> list[Document]:
        rows = await info.context.loader("documents", dataloaders.documents_loader).load(self.raw["id"])
        return [document_from_row(row) for row in rows]

    @strawberry.field(description="The latest appointment, booked or not.")
    async def appointment(self, info: Info) -> Appointment | None:
        row = await info.context.loader("appointment", dataloaders.appointment_loader).load(self.raw["id"])
        return appointment_from_row(row) if row else None

    @strawberry.field(description="The protocol version the referral was sent under; null for drafts.")
    async def protocol(self, info: Info) -> Protocol | None:
        row = await _load_protocol(info, self.raw)
        return protocol_from_row(row) if row else None

    @strawberry.field(description="What the protocol requires and whether each item is present.")
    async def checklist(self, info: Info) -> list[ChecklistItem]:
        row = await _load_protocol(info, self.raw)
        if row is None:
            return []
        policy = policy_from_row(row)
        documents = await info.context.loader("documents", dataloaders.documents_loader).load(self.raw["id"])
        kinds = {d["kind"] for d in documents}
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
    return provider_from_row(row) if row else None


async def _load_protocol(info: Info, referral: Row) -> protocols_records.NamedProtocolVersion | None:
    version_id = referral["protocol_version"]
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
    row = outcome.referral
    status = DomainStatus(row["status"])
    due_at = _deadline(row["due_at"])
    return Referral(
        id=to_global_id("Referral", row["id"]),
        version=row["version"],
        status=status,
        fhir_task_status=FHIR_TASK_STATUS[status],
        priority=row["priority"],
        reason=row["reason"],
        clinical_question=row["clinical_question"],
        relevant_history=row["relevant_history"],
        diagnoses=diagnoses_of(row),
        network_status=row["network_status"],
        out_of_network_reason=row["out_of_network_reason"],
        insurance=InsuranceVerification(status=DomainInsuranceStatus(row["insurance_status"])),
        prior_authorization=PriorAuthorization(
            status=DomainPriorAuthStatus(row["prior_auth_status"]),
            payer_reference=row["prior_auth_reference"],
            decision_due=row["prior_auth_decision_due"],
        ),
        status_reason=row["status_reason"],
        outcome_report=row["outcome_report"] or None,
        sent_at=row["sent_at"],
        respond_by=row["respond_by"],
        schedule_by=row["schedule_by"],
        expires_at=row["expires_at"],
        due_at=due_at,
        is_overdue=due_at is not None and due_at < now,
        closed_at=row["closed_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        allowed_actions=outcome.allowed_actions,
        raw=row,
    )


def event_from_row(row: Row) -> ReferralEvent:
    return ReferralEvent(
        id=to_global_id("ReferralEvent", str(row["id"])),
        action=row["action"],
        from_status=DomainStatus(row["from_status"]) if row["from_status"] else None,
        to_status=DomainStatus(row["to_status"]),
        reason_code=row["reason_code"],
        note=row["note"],
        occurred_at=row["occurred_at"],
        actor_id=row["actor"],
    )


def document_from_row(row: Row) -> Document:
    return Document(
        id=to_global_id("Document", row["id"]),
        kind=row["kind"],
        media_type=row["media_type"],
        filename=row["filename"],
        size_bytes=row["size_bytes"],
        sha256=row["sha256"],
        is_outcome=row["is_outcome"],
        created_at=row["created_at"],
        source_message_id=to_global_id("Message", row["source_message"])
        if row.get("source_message")
        else None,
    )


def appointment_from_row(row: Row) -> Appointment:
    return Appointment(
        id=to_global_id("Appointment", row["id"]),
        starts_at=row["starts_at"],
        location=row["location"],
        status=DomainAppointmentStatus(row["status"]),
        provider_id=row["provider"],
    )
