"""The referral domain's records: typed, immutable rows that the repository returns.

Each record is a frozen ``msgspec.Struct`` whose fields are named exactly like its table's
columns (a foreign key holds the referenced id), so the repository builds one from a selected
row with ``Referral(**row)``, after decrypting the sealed columns into that row (no validation:
the row comes from the database, typed by its columns). A record read from a narrower select
has its own, smaller type (``ReferralAccess``, ``Document`` without its content). Change one
with ``msgspec.structs.replace(record, status=...)``; records are never mutated.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Referral(msgspec.Struct, frozen=True, kw_only=True):
    """A referral, its clinical text (reason, clinical question, relevant history, outcome
    report) in plaintext. ``diagnoses`` is the JSON column as stored (read it with
    ``service.diagnoses_of``); ``wrapped_key`` is empty for rows from before encryption."""

    id: UUID
    version: int
    status: str
    priority: str
    priority_rank: int
    due_at: datetime
    patient: UUID
    referring_provider: UUID
    referring_organization: UUID
    receiving_provider: UUID | None
    receiving_organization: UUID
    specialty: UUID
    reason: str
    clinical_question: str
    relevant_history: str
    diagnoses: str
    protocol_version: UUID | None
    network_status: str
    out_of_network_reason: str
    insurance_status: str
    prior_auth_status: str
    prior_auth_reference: str | None
    prior_auth_decision_due: datetime | None
    status_changed_at: datetime
    sent_at: datetime | None
    respond_by: datetime | None
    schedule_by: datetime | None
    expires_at: datetime | None
    status_reason: str | None
    suggested_provider: UUID | None
    redirected_from: UUID | None
    outcome_report: str
    wrapped_key: str
    closed_at: datetime | None
    created_by: UUID
    created_at: datetime
    updated_at: datetime


class ReferralAccess(msgspec.Struct, frozen=True, kw_only=True):
    """Just what the access rule reads of a referral (``repository.ACCESS_COLUMNS``)."""

    id: UUID
    version: int
    status: str
    referring_provider: UUID
    referring_organization: UUID
    receiving_provider: UUID | None
    receiving_organization: UUID


# What ``access.parties`` and ``access.recipients_of`` read: a whole referral or its access columns.
ReferralParties = Referral | ReferralAccess


class ReferralEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One timeline entry, its note in plaintext (``actor`` None: the system acted)."""

    id: int
    uid: UUID
    referral: UUID
    actor: UUID | None
    action: str
    from_status: str | None
    to_status: str
    reason_code: str | None
    note: str
    occurred_at: datetime


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """A document's metadata (``repository.DOCUMENT_COLUMNS``: everything but the content), its
    file name and SHA-256 in plaintext; ``source_message`` is the message it was promoted from,
    ``linked_document`` the original a redirect carried it over from (file name, hash and
    content are the original's)."""

    id: UUID
    referral: UUID
    kind: str
    media_type: str
    filename: str
    size_bytes: int
    sha256: str
    is_outcome: bool
    source_message: UUID | None
    added_by: UUID
    created_at: datetime
    linked_document: UUID | None


class DocumentWithContent(Document, frozen=True, kw_only=True):
    """A document with its content, decrypted."""

    content: bytes


class Appointment(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    referral: UUID
    starts_at: datetime
    location: str
    provider: UUID | None
    status: str
    created_at: datetime


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The first outcome of a mutation sent with an idempotency key (``referral_id`` None:
    still running, or it failed)."""

    id: UUID
    user: UUID
    key: str
    operation: str
    request_hash: str
    referral_id: str | None
    created_at: datetime
