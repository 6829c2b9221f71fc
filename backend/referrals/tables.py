"""Referral tables: the referral, its timeline, documents, appointments and idempotency records.

The clinical free text (reason, clinical question, relevant history, outcome report) is stored
encrypted under the referral's own data key (``wrapped_key``); see backend/crypto/envelope.py.

``due_at`` is the deadline the inbox sorts by (respond-by, then schedule-by); referrals with no
deadline carry a far-future sentinel so one index serves the keyset order
``(priority_rank, due_at, id)`` on both engines.
"""

from piccolo.columns import (
    JSON,
    UUID,
    BigSerial,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Organization, Provider, Specialty, User
from backend.patients.tables import Patient
from backend.protocols.tables import ProtocolVersion


class Referral(Table):
    id = UUID(primary_key=True)
    version = Integer(default=1)
    status = Varchar(length=24, index=True)
    priority = Varchar(length=16)
    priority_rank = Integer()
    due_at = Timestamptz()
    patient = ForeignKey(references=Patient, null=False, index=True)
    referring_provider = ForeignKey(references=Provider, null=False, index=True)
    referring_organization = ForeignKey(references=Organization, null=False, index=True)
    receiving_provider = ForeignKey(references=Provider, null=True, index=True)
    receiving_organization = ForeignKey(references=Organization, null=False, index=True)
    specialty = ForeignKey(references=Specialty, null=False)
    reason = Text(default="")
    clinical_question = Text(default="")
    relevant_history = Text(default="")
    diagnoses = JSON(default="[]")
    protocol_version = ForeignKey(references=ProtocolVersion, null=True)
    network_status = Varchar(length=16, default="UNKNOWN")
    out_of_network_reason = Text(default="")
    insurance_status = Varchar(length=16, default="UNVERIFIED")
    prior_auth_status = Varchar(length=16, default="NOT_REQUIRED")
    prior_auth_reference = Varchar(length=64, null=True, default=None)
    prior_auth_decision_due = Timestamptz(null=True, default=None)
    status_changed_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    respond_by = Timestamptz(null=True, default=None)
    schedule_by = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    status_reason = Varchar(length=48, null=True, default=None)
    suggested_provider = ForeignKey(references=Provider, null=True)
    redirected_from: ForeignKey["Referral"] = ForeignKey(null=True, references="self")
    outcome_report = Text(default="")
    wrapped_key = Text(default="")
    closed_at = Timestamptz(null=True, default=None)
    created_by = ForeignKey(references=User, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ReferralEvent(Table):
    """One row per change: the referral's timeline (``note`` sealed like the referral's text,
    bound to this event's ``uid``)."""

    id = BigSerial(primary_key=True)
    uid = UUID()
    referral = ForeignKey(references=Referral, null=False, index=True)
    actor = ForeignKey(references=User, null=True)
    action = Varchar(length=32)
    from_status = Varchar(length=24, null=True, default=None)
    to_status = Varchar(length=24)
    reason_code = Varchar(length=48, null=True, default=None)
    note = Text(default="")
    occurred_at = Timestamptz(default=TimestamptzNow())


class Document(Table):
    """Content, file name and SHA-256 sealed under the referral's data key (fields
    ``document:<id>``, ``document:<id>:filename``, ``document:<id>:sha256``); a document promoted
    from a secure message names it in ``source_message`` (provenance).

    A document carried over by a redirect names the original in ``linked_document`` and holds
    no content, file name or hash of its own (empty): they are read from the original, opened
    with the original referral's key. Kind, media type and size are repeated (plain)."""

    id = UUID(primary_key=True)
    referral = ForeignKey(references=Referral, null=False, index=True)
    kind = Varchar(length=32)
    media_type = Varchar(length=100)
    filename = Text()
    size_bytes = Integer()
    sha256 = Text()
    content = Bytea()
    is_outcome = Boolean(default=False)
    source_message = UUID(null=True, default=None)
    added_by = ForeignKey(references=User, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    linked_document: ForeignKey["Document"] = ForeignKey(null=True, references="self")


class Appointment(Table):
    id = UUID(primary_key=True)
    referral = ForeignKey(references=Referral, null=False, index=True)
    starts_at = Timestamptz()
    location = Varchar(length=200)
    provider = ForeignKey(references=Provider, null=True)
    status = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())


class IdempotencyRecord(Table):
    """The first outcome of a mutation sent with a client's idempotency key (kept ≥ 24 h)."""

    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False)
    key = Varchar(length=128)
    operation = Varchar(length=64)
    request_hash = Varchar(length=64)
    referral_id = Varchar(length=36, null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
