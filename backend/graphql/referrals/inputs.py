"""Inputs of referral mutations and queries. Every change carries version and idempotency key."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.graphql.protocols.types import DocumentKind, Priority
from backend.graphql.referrals.types import (
    CancelReason,
    DeclineReason,
    InsuranceStatus,
    PriorAuthStatus,
    ReferralStatus,
)

CHANGE_FIELDS = "referralId, version (as last seen) and a fresh idempotencyKey (reuse it only to retry)."


@strawberry.input(description="A document, base64-encoded (at most 512 KiB once decoded).")
class DocumentUpload:
    kind: DocumentKind  # type: ignore[valid-type]
    media_type: str
    filename: str
    content_base64: str


@strawberry.input
class CreateReferralInput:
    idempotency_key: str
    patient_id: strawberry.ID
    specialty_code: str
    priority: Priority  # type: ignore[valid-type]
    receiving_provider_id: strawberry.ID | None = None
    receiving_organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="Send to the organization's specialty queue instead of a provider."
    )
    referring_provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff sending on behalf of a provider; defaults to your own entry."
    )
    reason: str = ""
    clinical_question: str = ""
    relevant_history: str = ""
    diagnoses: list[str] = strawberry.field(default_factory=list, description="ICD-10-CM codes, e.g. I48.91.")
    out_of_network_reason: str = ""


@strawberry.input(description=CHANGE_FIELDS)
class ReferralChangeInput:
    referral_id: strawberry.ID
    version: int
    idempotency_key: str


@strawberry.input(description=CHANGE_FIELDS + " Omitted fields keep their value.")
class EditReferralDraftInput(ReferralChangeInput):
    reason: str | None = None
    clinical_question: str | None = None
    relevant_history: str | None = None
    diagnoses: list[str] | None = None
    out_of_network_reason: str | None = None


@strawberry.input(description=CHANGE_FIELDS)
class RouteReferralInput(ReferralChangeInput):
    provider_id: strawberry.ID


@strawberry.input(description=CHANGE_FIELDS)
class ReferralNoteInput(ReferralChangeInput):
    note: str = ""


@strawberry.input(description=CHANGE_FIELDS)
class DeclineReferralInput(ReferralChangeInput):
    reason: DeclineReason  # type: ignore[valid-type]
    note: str = ""
    suggested_provider_id: strawberry.ID | None = None


@strawberry.input(description=CHANGE_FIELDS)
class CancelReferralInput(ReferralChangeInput):
    reason: CancelReason  # type: ignore[valid-type]
    note: str = ""


@strawberry.input(description=CHANGE_FIELDS)
class AppointmentInput(ReferralChangeInput):
    starts_at: datetime
    location: str
    provider_id: strawberry.ID | None = None


@strawberry.input(description=CHANGE_FIELDS)
class CloseReferralInput(ReferralChangeInput):
    report: str
    attachments: list[DocumentUpload] = strawberry.field(default_factory=list)


@strawberry.input(description=CHANGE_FIELDS)
class RedirectReferralInput(ReferralChangeInput):
    receiving_provider_id: strawberry.ID | None = None
    receiving_organization_id: strawberry.ID | None = None


@strawberry.input(description=CHANGE_FIELDS)
class AddReferralDocumentInput(ReferralChangeInput):
    document: DocumentUpload


@strawberry.input(description=CHANGE_FIELDS)
class UpdateInsuranceInput(ReferralChangeInput):
    status: InsuranceStatus  # type: ignore[valid-type]
    note: str = ""


@strawberry.input(description=CHANGE_FIELDS)
class UpdatePriorAuthInput(ReferralChangeInput):
    status: PriorAuthStatus  # type: ignore[valid-type]
    payer_reference: str | None = None
    decision_due: datetime | None = None


@strawberry.input
class ReferralFilter:
    statuses: list[ReferralStatus] | None = None  # type: ignore[valid-type]
    priorities: list[Priority] | None = None  # type: ignore[valid-type]
    specialty_codes: list[str] | None = None
    patient_id: strawberry.ID | None = None
    provider_id: strawberry.ID | None = strawberry.field(
        default=None, description="Referrals where this provider refers or receives."
    )
    overdue: bool = strawberry.field(default=False, description="Only referrals past their due time.")
    created_from: datetime | None = None
    created_before: datetime | None = None
