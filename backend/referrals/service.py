"""Referral use cases: create and edit drafts, every lifecycle transition, documents, reads.

Every change follows the same path::

    idempotency key claimed ─► access (parties of the caller) ─► version the client saw
        ─► transition legal in this status? ─► permitted for the caller's parties?
        ─► validate the action's input ─► versioned UPDATE + timeline event + audit entry

Nothing is written before the last check passes, so a typed error writes nothing (the
idempotency reservation is released). None of these functions commits.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from backend.accounts import records as accounts_records
from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.errors import DomainError, InvalidInput
from backend.core.events import emit
from backend.core.validation import check_text
from backend.directory import repository as directory
from backend.directory.codes import NetworkStatus
from backend.directory.service import network_status
from backend.patients import repository as patients
from backend.protocols import repository as protocols
from backend.protocols.codes import DocumentKind, RequiredField
from backend.protocols.policy import Policy, policy_from_record
from backend.referrals import access, lifecycle, records, repository
from backend.referrals.codes import (
    AppointmentStatus,
    CancelReason,
    DeclineReason,
    InboxView,
    InsuranceStatus,
    PriorAuthStatus,
)
from backend.referrals.errors import ReferralError, ReferralErrorCode, not_found
from backend.referrals.events import AppointmentChanged, DocumentAdded, ReferralChanged
from backend.referrals.lifecycle import Action, Party, Priority, Status
from backend.referrals.limits import (
    ALLOWED_MEDIA_TYPES,
    MAX_DIAGNOSES,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS_PER_REFERRAL,
    MAX_FILENAME,
    MAX_HISTORY,
    MAX_LOCATION,
    MAX_NOTE,
    MAX_QUESTION,
    MAX_REASON,
    MAX_REFERENCE,
    MAX_REPORT,
)

Columns = repository.Columns
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)
REPORT_DUE_DAYS = 14
IDEMPOTENCY_RETENTION = timedelta(hours=48)
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


@dataclass(frozen=True, slots=True)
class Change:
    """What every changing call carries: the referral, the version seen, the retry key."""

    referral_id: UUID
    version: int
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class ClinicalContent:
    reason: str = ""
    clinical_question: str = ""
    relevant_history: str = ""
    diagnoses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewReferral:
    patient_id: UUID
    specialty_code: str
    priority: Priority
    content: ClinicalContent
    referring_provider_id: UUID | None = None
    receiving_provider_id: UUID | None = None
    receiving_organization_id: UUID | None = None
    out_of_network_reason: str = ""


@dataclass(frozen=True, slots=True)
class NewDocument:
    kind: DocumentKind
    media_type: str
    filename: str
    content: bytes
    source_message_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class AppointmentSlot:
    starts_at: datetime
    location: str
    provider_id: UUID | None = None


@dataclass(slots=True)
class Outcome:
    """A referral after a change or read, with the caller's parties (for allowed actions)."""

    referral: records.Referral
    parties: frozenset[Party] = field(default_factory=frozenset)

    @property
    def allowed_actions(self) -> list[Action]:
        return lifecycle.allowed_actions(Status(self.referral.status), self.parties)


# --- idempotency -----------------------------------------------------------------------------


def _fingerprint(operation: str, payload: Any) -> str:
    encoded = json.dumps({"operation": operation, "input": payload}, sort_keys=True, default=_jsonable)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {name: getattr(value, name) for name in value.__dataclass_fields__}
    return str(value)


async def _idempotent(
    actor: Actor,
    key: str,
    operation: str,
    payload: Any,
    run: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """Run once per (user, key): a retry with the same input gets the same referral back."""
    if not IDEMPOTENCY_KEY.match(key):
        problems = InvalidInput()
        problems.add("idempotencyKey", "INVALID", "8-128 characters: letters, digits, '.', '_', ':' or '-'.")
        raise problems
    request_hash = _fingerprint(operation, payload)
    existing = await repository.claim_idempotency_key(
        user_id=actor.user_id, key=key, operation=operation, request_hash=request_hash, now=utcnow()
    )
    if existing is not None:
        if existing.request_hash != request_hash or existing.referral_id is None:
            raise ReferralError(
                ReferralErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This idempotency key was already used for a different request.",
                field="idempotencyKey",
            )
        referral, parties = await access.access_referral(actor, UUID(existing.referral_id))
        return Outcome(referral, parties)
    try:
        outcome = await run()
    except (DomainError, InvalidInput):
        await repository.release_idempotency_key(actor.user_id, key)
        raise
    await repository.complete_idempotency_key(actor.user_id, key, outcome.referral.id)
    return outcome


# --- validation ------------------------------------------------------------------------------


def _check_content(problems: InvalidInput, content: ClinicalContent) -> None:
    check_text(problems, "reason", content.reason, max_length=MAX_REASON, required=False)
    check_text(
        problems, "clinicalQuestion", content.clinical_question, max_length=MAX_QUESTION, required=False
    )
    check_text(problems, "relevantHistory", content.relevant_history, max_length=MAX_HISTORY, required=False)
    if len(content.diagnoses) > MAX_DIAGNOSES:
        problems.add("diagnoses", "TOO_MANY", f"At most {MAX_DIAGNOSES} diagnoses.")
    invalid = [code for code in content.diagnoses if not ICD10.match(code)]
    if invalid:
        problems.add(
            "diagnoses",
            "INVALID_ICD10",
            f"Not ICD-10-CM codes (e.g. I48.91): {', '.join(c[:10] for c in invalid[:5])}.",
        )


def _check_note(problems: InvalidInput, note: str, *, required: bool) -> None:
    check_text(problems, "note", note, max_length=MAX_NOTE, required=required)


def _missing_items(referral: records.Referral, policy: Policy, document_kinds: set[str]) -> list[str]:
    present = {
        RequiredField.REASON: bool(referral.reason.strip()),
        RequiredField.CLINICAL_QUESTION: bool(referral.clinical_question.strip()),
        RequiredField.RELEVANT_HISTORY: bool(referral.relevant_history.strip()),
        RequiredField.DIAGNOSES: bool(diagnoses_of(referral)),
    }
    missing = [f"FIELD:{f.value}" for f in policy.required_fields if not present[f]]
    missing += [
        f"ATTACHMENT:{k.value}" for k in policy.required_attachment_kinds if k.value not in document_kinds
    ]
    return missing


def diagnoses_of(referral: records.Referral) -> list[str]:
    value = referral.diagnoses
    loaded = json.loads(value) if isinstance(value, str) else value
    return list(loaded or [])


def _seconds(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


# --- the transition path ---------------------------------------------------------------------


async def _checked(actor: Actor, change: Change, action: Action) -> tuple[records.Referral, frozenset[Party]]:
    referral, parties = await access.access_referral(actor, change.referral_id)
    status = Status(referral.status)
    allowed = lifecycle.allowed_actions(status, parties)
    if referral.version != change.version:
        raise ReferralError(
            ReferralErrorCode.VERSION_CONFLICT,
            "The referral changed since you loaded it; reload and try again.",
            current_status=status,
            current_version=referral.version,
            allowed_actions=allowed,
        )
    if not lifecycle.is_legal(action, status):
        raise ReferralError(
            ReferralErrorCode.ILLEGAL_TRANSITION,
            f"{action.value} is not possible while the referral is {status.value}.",
            current_status=status,
            current_version=referral.version,
            allowed_actions=allowed,
        )
    if not lifecycle.is_permitted(action, parties):
        raise ReferralError(
            ReferralErrorCode.NOT_PERMITTED,
            f"Your role on this referral does not allow {action.value}.",
            current_status=status,
            current_version=referral.version,
            allowed_actions=allowed,
        )
    return referral, parties


async def _apply(
    actor: Actor,
    audit: AuditTrail,
    *,
    referral: records.Referral,
    parties: frozenset[Party],
    action: Action,
    changes: Columns,
    reason_code: str | None = None,
    note: str = "",
) -> Outcome:
    now = utcnow()
    from_status = Status(referral.status)
    to_status = lifecycle.next_status(action, from_status)
    values = {**changes, "updated_at": now}
    if to_status != from_status:
        values["status"] = to_status.value
        values["status_changed_at"] = now
    updated = await repository.update_versioned(referral.id, referral.version, values)
    if updated is None:
        current = await repository.referral_by_id(referral.id)
        assert current is not None
        raise ReferralError(
            ReferralErrorCode.VERSION_CONFLICT,
            "The referral changed since you loaded it; reload and try again.",
            current_status=Status(current.status),
            current_version=current.version,
            allowed_actions=lifecycle.allowed_actions(Status(current.status), parties),
        )
    await repository.insert_event(
        referral_id=referral.id,
        actor_id=actor.user_id,
        action=action.value,
        from_status=from_status.value,
        to_status=to_status.value,
        reason_code=reason_code,
        note=note.strip(),
        occurred_at=now,
    )
    _audit_change(actor, audit, updated)
    await emit(ReferralChanged(before=referral, after=updated, action=action.value, actor_id=actor.user_id))
    return Outcome(updated, access.parties(actor, updated))


def _audit_change(actor: Actor, audit: AuditTrail, referral: records.Referral) -> None:
    audit.record(
        AuditAction.REFERRAL_CHANGED,
        actor_user_id=actor.user_id,
        organization_id=referral.referring_organization,
        object_type="Referral",
        object_id=referral.id,
    )


async def _policy_of(referral: records.Referral) -> Policy:
    if referral.protocol_version is None:
        return Policy()
    rows = await protocols.versions_by_ids([referral.protocol_version])
    return policy_from_record(rows[0] if rows else None)


async def _transition(
    actor: Actor,
    audit: AuditTrail,
    change: Change,
    action: Action,
    *,
    payload: Any,
    prepare: Callable[[records.Referral, InvalidInput], Awaitable[Columns]] | None = None,
    reason_code: str | None = None,
    note: str = "",
    after: Callable[[records.Referral], Awaitable[None]] | None = None,
) -> Outcome:
    """The shared path: checks, action-specific validation (``prepare``), update, event, audit."""

    async def run() -> Outcome:
        referral, parties = await _checked(actor, change, action)
        problems = InvalidInput()
        changes = await prepare(referral, problems) if prepare else {}
        problems.raise_if_any()
        outcome = await _apply(
            actor,
            audit,
            referral=referral,
            parties=parties,
            action=action,
            changes=changes,
            reason_code=reason_code,
            note=note,
        )
        if after is not None:
            await after(outcome.referral)
        return outcome

    return await _idempotent(
        actor, change.idempotency_key, f"{action.value}:{change.referral_id}", payload, run
    )


# --- drafts ----------------------------------------------------------------------------------


async def create_referral(
    actor: Actor, audit: AuditTrail, idempotency_key: str, draft: NewReferral
) -> Outcome:
    async def run() -> Outcome:
        problems = InvalidInput()
        _check_content(problems, draft.content)
        check_text(
            problems, "outOfNetworkReason", draft.out_of_network_reason, max_length=MAX_NOTE, required=False
        )
        referring = await _referring_provider(actor, draft.referring_provider_id, problems)
        patient = await patients.patient_by_id(draft.patient_id)
        if patient is None or not actor.is_member(patient.organization):
            problems.add("patientId", "NOT_FOUND", "No such patient in your organizations.")
        elif referring is not None and patient.organization != referring.organization:
            problems.add("patientId", "OTHER_ORGANIZATION", "The patient belongs to another organization.")
        specialties = await accounts.specialties_by_codes([draft.specialty_code])
        if not specialties:
            problems.add("specialtyCode", "UNKNOWN_SPECIALTY", "Unknown specialty code.")
        receiving_org = await _receiving_side(draft, specialties[0].id if specialties else None, problems)
        problems.raise_if_any()
        assert referring is not None
        assert receiving_org is not None
        return await _insert_draft(
            actor,
            audit,
            {
                "priority": draft.priority.value,
                "priority_rank": lifecycle.PRIORITY_RANK[draft.priority],
                "patient": draft.patient_id,
                "referring_provider": referring.id,
                "referring_organization": referring.organization,
                "receiving_provider": draft.receiving_provider_id,
                "receiving_organization": receiving_org,
                "specialty": specialties[0].id,
                "reason": draft.content.reason.strip(),
                "clinical_question": draft.content.clinical_question.strip(),
                "relevant_history": draft.content.relevant_history.strip(),
                "diagnoses": list(draft.content.diagnoses),
                "out_of_network_reason": draft.out_of_network_reason.strip(),
            },
        )

    return await _idempotent(actor, idempotency_key, "CREATE", draft, run)


async def _insert_draft(
    actor: Actor, audit: AuditTrail, values: Columns, *, reason_code: str | None = None
) -> Outcome:
    """A new draft with its CREATE event and audit entry (for create and for redirect)."""
    now = utcnow()
    referral = await repository.insert_referral(
        values
        | {
            "status": Status.DRAFT.value,
            "due_at": NO_DEADLINE,
            "created_by": actor.user_id,
            "created_at": now,
            "updated_at": now,
            "status_changed_at": now,
        }
    )
    await repository.insert_event(
        referral_id=referral.id,
        actor_id=actor.user_id,
        action="CREATE",
        from_status=None,
        to_status=Status.DRAFT.value,
        reason_code=reason_code,
        note="",
        occurred_at=now,
    )
    audit.record(
        AuditAction.REFERRAL_CREATED,
        actor_user_id=actor.user_id,
        organization_id=referral.referring_organization,
        object_type="Referral",
        object_id=referral.id,
    )
    await emit(ReferralChanged(before=None, after=referral, action="CREATE"))
    return Outcome(referral, access.parties(actor, referral))


async def _referring_provider(
    actor: Actor, provider_id: UUID | None, problems: InvalidInput
) -> accounts_records.Provider | None:
    """The caller's own provider entry, or, for staff, a provider of their organization."""
    if provider_id is None:
        own = [
            p
            for p in await accounts.providers_by_ids(sorted(actor.provider_ids))
            if actor.is_member(p.organization)
        ]
        if not own:
            problems.add("referringProviderId", "REQUIRED", "Choose the referring provider.")
            return None
        return own[0]
    provider = await directory.provider_by_id(provider_id)
    if provider is None or not (
        actor.is_provider_in(provider_id, provider.organization) or actor.is_staff_of(provider.organization)
    ):
        problems.add("referringProviderId", "NOT_FOUND", "No such provider in your organizations.")
        return None
    return provider


async def _receiving_side(
    draft: NewReferral, specialty_id: UUID | None, problems: InvalidInput
) -> UUID | None:
    if draft.receiving_provider_id is not None:
        provider = await directory.provider_by_id(draft.receiving_provider_id)
        if provider is None:
            problems.add("receivingProviderId", "NOT_FOUND", "No such provider.")
            return None
        if specialty_id is not None and not await directory.provider_has_specialty(provider.id, specialty_id):
            problems.add(
                "receivingProviderId", "WRONG_SPECIALTY", "This provider does not practise that specialty."
            )
        if draft.receiving_organization_id not in (None, provider.organization):
            problems.add(
                "receivingOrganizationId", "MISMATCH", "The provider belongs to another organization."
            )
        return UUID(str(provider.organization))
    if draft.receiving_organization_id is None:
        problems.add("receivingProviderId", "REQUIRED", "Choose a receiving provider or organization.")
        return None
    if await accounts.organization_by_id(draft.receiving_organization_id) is None:
        problems.add("receivingOrganizationId", "NOT_FOUND", "No such organization.")
        return None
    return draft.receiving_organization_id


@dataclass(frozen=True, slots=True)
class DraftEdit:
    """Fields to change in a draft; None keeps the current value."""

    reason: str | None = None
    clinical_question: str | None = None
    relevant_history: str | None = None
    diagnoses: tuple[str, ...] | None = None
    out_of_network_reason: str | None = None


async def edit_draft(actor: Actor, audit: AuditTrail, change: Change, edit: DraftEdit) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        content = ClinicalContent(
            reason=referral.reason if edit.reason is None else edit.reason,
            clinical_question=(
                referral.clinical_question if edit.clinical_question is None else edit.clinical_question
            ),
            relevant_history=(
                referral.relevant_history if edit.relevant_history is None else edit.relevant_history
            ),
            diagnoses=tuple(diagnoses_of(referral)) if edit.diagnoses is None else edit.diagnoses,
        )
        out_of_network_reason = (
            referral.out_of_network_reason
            if edit.out_of_network_reason is None
            else edit.out_of_network_reason
        )
        _check_content(problems, content)
        check_text(problems, "outOfNetworkReason", out_of_network_reason, max_length=MAX_NOTE, required=False)
        return {
            "reason": content.reason.strip(),
            "clinical_question": content.clinical_question.strip(),
            "relevant_history": content.relevant_history.strip(),
            "diagnoses": list(content.diagnoses),
            "out_of_network_reason": out_of_network_reason.strip(),
        }

    return await _transition(actor, audit, change, Action.EDIT, payload=edit, prepare=prepare)


# --- transitions -----------------------------------------------------------------------------


async def send(actor: Actor, audit: AuditTrail, change: Change) -> Outcome:
    """Send a complete draft; a referral missing protocol items fails listing every one."""

    async def run() -> Outcome:
        referral, parties = await _checked(actor, change, Action.SEND)
        protocol = await protocols.protocol_for(referral.receiving_organization, referral.specialty)
        version = await protocols.version_of(protocol.id, protocol.current_version) if protocol else None
        policy = policy_from_record(version)
        missing = _missing_items(referral, policy, await repository.document_kinds(referral.id))
        receiver_status = NetworkStatus.UNKNOWN
        if referral.receiving_provider is not None:
            provider = await directory.provider_by_id(referral.receiving_provider)
            assert provider is not None
            receiver_status = await network_status(referral.referring_organization, provider)
        elif referral.receiving_organization == referral.referring_organization:
            receiver_status = NetworkStatus.IN_NETWORK
        if receiver_status == NetworkStatus.OUT_OF_NETWORK and not referral.out_of_network_reason.strip():
            missing.append("FIELD:OUT_OF_NETWORK_REASON")
        if missing:
            raise ReferralError(
                ReferralErrorCode.MISSING_REQUIRED_ITEMS,
                f"The receiving organization's protocol requires {len(missing)} more item(s).",
                current_status=Status.DRAFT,
                current_version=referral.version,
                allowed_actions=lifecycle.allowed_actions(Status.DRAFT, parties),
                missing_items=missing,
            )
        now = _seconds(utcnow())
        priority = Priority(referral.priority)
        respond_by = policy.respond_by(priority, now)
        changes = {
            "protocol_version": version.id if version else None,
            "network_status": receiver_status.value,
            "sent_at": now,
            "respond_by": respond_by,
            "expires_at": policy.expires_at(now),
            "due_at": respond_by,
        }
        return await _apply(
            actor, audit, referral=referral, parties=parties, action=Action.SEND, changes=changes
        )

    return await _idempotent(actor, change.idempotency_key, f"SEND:{change.referral_id}", None, run)


async def route(actor: Actor, audit: AuditTrail, change: Change, provider_id: UUID) -> Outcome:
    """Receiving-side coordinators assign a queue referral to one of their specialists."""

    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        provider = await directory.provider_by_id(provider_id)
        if provider is None or provider.organization != referral.receiving_organization:
            problems.add("providerId", "NOT_FOUND", "No such provider in the receiving organization.")
        elif not await directory.provider_has_specialty(provider_id, referral.specialty):
            problems.add("providerId", "WRONG_SPECIALTY", "This provider does not practise that specialty.")
        return {"receiving_provider": provider_id}

    return await _transition(actor, audit, change, Action.ROUTE, payload=provider_id, prepare=prepare)


async def claim(actor: Actor, audit: AuditTrail, change: Change) -> Outcome:
    return await _transition(actor, audit, change, Action.CLAIM, payload=None)


async def request_info(actor: Actor, audit: AuditTrail, change: Change, question: str) -> Outcome:
    """Ask the referrer a question; the response clock pauses until they answer."""

    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, question, required=True)
        return {"due_at": NO_DEADLINE}

    return await _transition(
        actor, audit, change, Action.REQUEST_INFO, payload=question, prepare=prepare, note=question
    )


async def provide_info(actor: Actor, audit: AuditTrail, change: Change, answer: str) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, answer, required=True)
        paused = utcnow() - referral.status_changed_at
        respond_by = _seconds((referral.respond_by or utcnow()) + paused)
        return {"respond_by": respond_by, "due_at": respond_by}

    return await _transition(
        actor, audit, change, Action.PROVIDE_INFO, payload=answer, prepare=prepare, note=answer
    )


async def accept(actor: Actor, audit: AuditTrail, change: Change, note: str) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, note, required=False)
        policy = await _policy_of(referral)
        schedule_by = policy.schedule_by(Priority(referral.priority), _seconds(utcnow()))
        return {"schedule_by": schedule_by, "due_at": schedule_by}

    return await _transition(actor, audit, change, Action.ACCEPT, payload=note, prepare=prepare, note=note)


async def decline(
    actor: Actor,
    audit: AuditTrail,
    change: Change,
    *,
    reason: DeclineReason,
    note: str,
    suggested_provider_id: UUID | None,
) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, note, required=reason == DeclineReason.OTHER)
        if (
            suggested_provider_id is not None
            and await directory.provider_by_id(suggested_provider_id) is None
        ):
            problems.add("suggestedProviderId", "NOT_FOUND", "No such provider.")
        return {
            "status_reason": reason.value,
            "suggested_provider": suggested_provider_id,
            "due_at": NO_DEADLINE,
        }

    payload = (reason, note, suggested_provider_id)
    return await _transition(
        actor,
        audit,
        change,
        Action.DECLINE,
        payload=payload,
        prepare=prepare,
        reason_code=reason.value,
        note=note,
    )


async def cancel(actor: Actor, audit: AuditTrail, change: Change, reason: CancelReason, note: str) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, note, required=reason == CancelReason.OTHER)
        return {"status_reason": reason.value, "due_at": NO_DEADLINE}

    async def cancel_appointment(referral: records.Referral) -> None:
        await _settle_booked(referral, Action.CANCEL, AppointmentStatus.CANCELLED)

    return await _transition(
        actor,
        audit,
        change,
        Action.CANCEL,
        payload=(reason, note),
        prepare=prepare,
        reason_code=reason.value,
        note=note,
        after=cancel_appointment,
    )


def _check_slot(problems: InvalidInput, slot: AppointmentSlot) -> None:
    if slot.starts_at.tzinfo is None:
        problems.add("startsAt", "TIMEZONE_REQUIRED", "Give the time with its UTC offset.")
    elif slot.starts_at <= utcnow():
        problems.add("startsAt", "IN_THE_PAST", "The appointment must be in the future.")
    elif slot.starts_at > utcnow() + timedelta(days=366):
        problems.add("startsAt", "TOO_FAR", "Book at most a year ahead.")
    check_text(problems, "location", slot.location, max_length=MAX_LOCATION)


async def _check_slot_provider(
    problems: InvalidInput, slot: AppointmentSlot, referral: records.Referral
) -> None:
    if slot.provider_id is None:
        return
    provider = await directory.provider_by_id(slot.provider_id)
    if provider is None or provider.organization != referral.receiving_organization:
        problems.add("providerId", "NOT_FOUND", "No such provider in the receiving organization.")


async def schedule(actor: Actor, audit: AuditTrail, change: Change, slot: AppointmentSlot) -> Outcome:
    return await _book(actor, audit, change, slot, Action.SCHEDULE)


async def reschedule(actor: Actor, audit: AuditTrail, change: Change, slot: AppointmentSlot) -> Outcome:
    return await _book(actor, audit, change, slot, Action.RESCHEDULE)


async def _book(
    actor: Actor, audit: AuditTrail, change: Change, slot: AppointmentSlot, action: Action
) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_slot(problems, slot)
        await _check_slot_provider(problems, slot, referral)
        return {"due_at": _seconds(slot.starts_at.astimezone(UTC)) if slot.starts_at.tzinfo else NO_DEADLINE}

    async def book(referral: records.Referral) -> None:
        await _settle_booked(referral, action, AppointmentStatus.CANCELLED)
        appointment = await repository.insert_appointment(
            {
                "referral": referral.id,
                "starts_at": slot.starts_at,
                "location": slot.location.strip(),
                "provider": slot.provider_id or referral.receiving_provider,
                "status": AppointmentStatus.BOOKED.value,
            }
        )
        await emit(AppointmentChanged(referral=referral, appointment=appointment, action=action.value))

    return await _transition(actor, audit, change, action, payload=slot, prepare=prepare, after=book)


async def _settle_booked(referral: records.Referral, action: Action, status: AppointmentStatus) -> None:
    """Give the booked appointment, if any, its final status, and tell the stream."""
    await _settle(referral, action, status, await repository.booked_appointment(referral.id))


async def _settle(
    referral: records.Referral, action: Action, status: AppointmentStatus, booked: records.Appointment | None
) -> None:
    if booked is not None:
        await repository.set_appointment_status(booked.id, status)
        settled = msgspec.structs.replace(booked, status=status.value)
        await emit(AppointmentChanged(referral=referral, appointment=settled, action=action.value))


async def _settle_appointment(
    actor: Actor, audit: AuditTrail, change: Change, action: Action, status: AppointmentStatus
) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        policy = await _policy_of(referral)
        now = _seconds(utcnow())
        schedule_by = policy.schedule_by(Priority(referral.priority), now)
        return {"schedule_by": schedule_by, "due_at": schedule_by}

    async def settle(referral: records.Referral) -> None:
        await _settle_booked(referral, action, status)

    return await _transition(actor, audit, change, action, payload=None, prepare=prepare, after=settle)


async def cancel_appointment(actor: Actor, audit: AuditTrail, change: Change) -> Outcome:
    return await _settle_appointment(
        actor, audit, change, Action.CANCEL_APPOINTMENT, AppointmentStatus.CANCELLED
    )


async def mark_no_show(actor: Actor, audit: AuditTrail, change: Change) -> Outcome:
    return await _settle_appointment(actor, audit, change, Action.MARK_NO_SHOW, AppointmentStatus.NO_SHOW)


async def complete_visit(
    actor: Actor, audit: AuditTrail, change: Change, early_visit_reason: str | None = None
) -> Outcome:
    """The visit took place: the booked appointment is completed and the report falls due.

    Not before the appointment's start, unless the caller says why the visit came early
    (``early_visit_reason``, kept as the timeline entry's note, sealed like every note)."""
    reason = (early_visit_reason or "").strip()
    booked: list[records.Appointment | None] = []

    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        check_text(
            problems, "earlyVisitReason", early_visit_reason or "", max_length=MAX_NOTE, required=False
        )
        appointment = await repository.booked_appointment(referral.id)
        booked.append(appointment)
        now = utcnow()
        if appointment is not None and not reason and _aware(appointment.starts_at) > now:
            raise ReferralError(
                ReferralErrorCode.VISIT_NOT_STARTED,
                "The appointment has not started yet; give an early-visit reason to complete it now.",
                field="earlyVisitReason",
                current_status=Status(referral.status),
                current_version=referral.version,
                allowed_actions=lifecycle.allowed_actions(
                    Status(referral.status), access.parties(actor, referral)
                ),
                appointment_starts_at=_aware(appointment.starts_at),
            )
        return {"due_at": _seconds(now) + timedelta(days=REPORT_DUE_DAYS)}

    async def settle(referral: records.Referral) -> None:
        await _settle(referral, Action.COMPLETE_VISIT, AppointmentStatus.COMPLETED, booked[-1])

    return await _transition(
        actor,
        audit,
        change,
        Action.COMPLETE_VISIT,
        payload=early_visit_reason,
        prepare=prepare,
        note=reason,
        after=settle,
    )


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite may hand back a naive UTC time)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def close(
    actor: Actor, audit: AuditTrail, change: Change, report: str, attachments: Sequence[NewDocument]
) -> Outcome:
    """Send the outcome (consult report and attachments) back: the loop is closed."""

    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        check_text(problems, "report", report, max_length=MAX_REPORT)
        existing = await repository.count_documents(referral.id)
        for index, document in enumerate(attachments):
            _check_document(problems, document, f"attachments.{index}")
        if existing + len(attachments) > MAX_DOCUMENTS_PER_REFERRAL:
            problems.add(
                "attachments", "TOO_MANY", f"At most {MAX_DOCUMENTS_PER_REFERRAL} documents per referral."
            )
        now = utcnow()
        return {"outcome_report": report.strip(), "closed_at": now, "due_at": NO_DEADLINE}

    async def store(referral: records.Referral) -> None:
        for document in attachments:
            await _store_document(actor, audit, referral, document, is_outcome=True)

    return await _transition(
        actor, audit, change, Action.CLOSE, payload=(report, list(attachments)), prepare=prepare, after=store
    )


def _check_document(problems: InvalidInput, document: NewDocument, prefix: str) -> None:
    if document.media_type not in ALLOWED_MEDIA_TYPES:
        problems.add(
            f"{prefix}.mediaType",
            "UNSUPPORTED_MEDIA_TYPE",
            f"Allowed: {', '.join(sorted(ALLOWED_MEDIA_TYPES))}.",
        )
    if not document.content:
        problems.add(f"{prefix}.content", "EMPTY", "The document is empty.")
    elif len(document.content) > MAX_DOCUMENT_BYTES:
        problems.add(
            f"{prefix}.content", "TOO_LARGE", f"At most {MAX_DOCUMENT_BYTES // 1024} KiB per document."
        )
    check_text(problems, f"{prefix}.filename", document.filename, max_length=MAX_FILENAME)
    if "/" in document.filename or "\\" in document.filename or "\x00" in document.filename:
        problems.add(f"{prefix}.filename", "INVALID", "A file name, not a path.")


async def _store_document(
    actor: Actor, audit: AuditTrail, referral: records.Referral, document: NewDocument, *, is_outcome: bool
) -> UUID:
    document_id = await repository.insert_document(
        {
            "referral": referral.id,
            "kind": document.kind.value,
            "media_type": document.media_type,
            "filename": document.filename.strip(),
            "size_bytes": len(document.content),
            "sha256": hashlib.sha256(document.content).hexdigest(),
            "content": document.content,
            "is_outcome": is_outcome,
            "added_by": actor.user_id,
            "source_message": document.source_message_id,
        }
    )
    audit.record(
        AuditAction.DOCUMENT_ADDED,
        actor_user_id=actor.user_id,
        organization_id=referral.referring_organization,
        object_type="Document",
        object_id=document_id,
    )
    action = Action.CLOSE if is_outcome else Action.ADD_DOCUMENT
    await emit(
        DocumentAdded(
            referral=referral, document_id=str(document_id), kind=document.kind.value, action=action.value
        )
    )
    return document_id


async def add_document(actor: Actor, audit: AuditTrail, change: Change, document: NewDocument) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_document(problems, document, "document")
        if await repository.count_documents(referral.id) >= MAX_DOCUMENTS_PER_REFERRAL:
            problems.add(
                "document", "TOO_MANY", f"At most {MAX_DOCUMENTS_PER_REFERRAL} documents per referral."
            )
        return {}

    async def store(referral: records.Referral) -> None:
        await _store_document(actor, audit, referral, document, is_outcome=False)

    return await _transition(
        actor,
        audit,
        change,
        Action.ADD_DOCUMENT,
        payload=document,
        prepare=prepare,
        after=store,
        note=document.kind.value,
    )


async def update_insurance(
    actor: Actor, audit: AuditTrail, change: Change, status: InsuranceStatus, note: str
) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        _check_note(problems, note, required=status == InsuranceStatus.FAILED)
        return {"insurance_status": status.value}

    return await _transition(
        actor,
        audit,
        change,
        Action.UPDATE_INSURANCE,
        payload=(status, note),
        prepare=prepare,
        reason_code=status.value,
        note=note,
    )


async def update_prior_auth(
    actor: Actor,
    audit: AuditTrail,
    change: Change,
    *,
    status: PriorAuthStatus,
    payer_reference: str | None,
    decision_due: datetime | None,
) -> Outcome:
    async def prepare(referral: records.Referral, problems: InvalidInput) -> Columns:
        if payer_reference is not None:
            check_text(problems, "payerReference", payer_reference, max_length=MAX_REFERENCE)
        if status == PriorAuthStatus.PENDING and decision_due is None:
            problems.add(
                "decisionDue", "REQUIRED", "A pending authorization needs the payer's decision deadline."
            )
        if decision_due is not None and decision_due.tzinfo is None:
            problems.add("decisionDue", "TIMEZONE_REQUIRED", "Give the time with its UTC offset.")
        return {
            "prior_auth_status": status.value,
            "prior_auth_reference": payer_reference.strip()
            if payer_reference
            else referral.prior_auth_reference,
            "prior_auth_decision_due": decision_due,
        }

    payload = (status, payer_reference, decision_due)
    return await _transition(
        actor,
        audit,
        change,
        Action.UPDATE_PRIOR_AUTH,
        payload=payload,
        prepare=prepare,
        reason_code=status.value,
    )


async def redirect(
    actor: Actor,
    audit: AuditTrail,
    change: Change,
    *,
    receiving_provider_id: UUID | None,
    receiving_organization_id: UUID | None,
) -> Outcome:
    """After a decline, a new draft to another receiver, linked to the declined referral."""

    async def run() -> Outcome:
        declined, parties = await _checked(actor, change, Action.REDIRECT)
        draft = NewReferral(
            patient_id=declined.patient,
            specialty_code="",
            priority=Priority(declined.priority),
            content=ClinicalContent(
                declined.reason,
                declined.clinical_question,
                declined.relevant_history,
                tuple(diagnoses_of(declined)),
            ),
            referring_provider_id=declined.referring_provider,
            receiving_provider_id=receiving_provider_id,
            receiving_organization_id=receiving_organization_id,
        )
        problems = InvalidInput()
        receiving_org = await _receiving_side(draft, declined.specialty, problems)
        if receiving_provider_id is not None and receiving_provider_id == declined.receiving_provider:
            problems.add("receivingProviderId", "SAME_RECEIVER", "Redirect to a different receiver.")
        problems.raise_if_any()
        assert receiving_org is not None
        await _apply(actor, audit, referral=declined, parties=parties, action=Action.REDIRECT, changes={})
        outcome = await _insert_draft(
            actor,
            audit,
            {
                "priority": declined.priority,
                "priority_rank": declined.priority_rank,
                "patient": declined.patient,
                "referring_provider": declined.referring_provider,
                "referring_organization": declined.referring_organization,
                "specialty": declined.specialty,
                "reason": declined.reason,
                "clinical_question": declined.clinical_question,
                "relevant_history": declined.relevant_history,
                "diagnoses": declined.diagnoses,
                "receiving_provider": receiving_provider_id,
                "receiving_organization": receiving_org,
                "redirected_from": declined.id,
            },
            reason_code="REDIRECTED",
        )
        await _carry_documents(actor, audit, declined, outcome.referral)
        return outcome

    payload = (receiving_provider_id, receiving_organization_id)
    return await _idempotent(actor, change.idempotency_key, f"REDIRECT:{change.referral_id}", payload, run)


async def _carry_documents(
    actor: Actor, audit: AuditTrail, declined: records.Referral, redirected: records.Referral
) -> None:
    """The declined referral's attachments come along, linked: the new referral's documents point
    at the originals (sealed once, under the declined referral's key), no content is copied.
    The outcome's documents and consult reports stay behind."""
    grouped = await repository.documents_of_referrals([declined.id])
    carried = [
        document
        for document in grouped.get(declined.id, [])
        if not document.is_outcome and document.kind != DocumentKind.CONSULT_REPORT.value
    ]
    for document_id in await repository.insert_linked_documents(redirected.id, carried):
        audit.record(
            AuditAction.DOCUMENT_ADDED,
            actor_user_id=actor.user_id,
            organization_id=redirected.referring_organization,
            object_type="Document",
            object_id=document_id,
        )


# --- reads -----------------------------------------------------------------------------------


def audit_reads(actor: Actor, audit: AuditTrail, referrals: Sequence[records.Referral]) -> None:
    for referral in referrals:
        audit.record(
            AuditAction.REFERRAL_READ,
            actor_user_id=actor.user_id,
            organization_id=referral.referring_organization,
            object_type="Referral",
            object_id=referral.id,
        )


async def read_referral(actor: Actor, audit: AuditTrail, referral_id: UUID) -> Outcome:
    referral, parties = await access.access_referral(actor, referral_id)
    audit_reads(actor, audit, [referral])
    return Outcome(referral, parties)


async def read_document(actor: Actor, audit: AuditTrail, document_id: UUID) -> records.DocumentWithContent:
    document = await repository.document_by_id(document_id)
    if document is None:
        raise not_found()
    referral, _ = await access.access_referral(actor, document.referral)
    audit.record(
        AuditAction.DOCUMENT_READ,
        actor_user_id=actor.user_id,
        organization_id=referral.referring_organization,
        object_type="Document",
        object_id=document_id,
    )
    return document


# --- system jobs -----------------------------------------------------------------------------


async def expire_overdue(audit: AuditTrail, *, now: datetime, limit: int = 500) -> int:
    """Expire referrals whose validity window passed with no visit; purge old idempotency keys."""
    expirable = sorted(lifecycle.RULES[Action.EXPIRE].from_statuses)
    rows = await repository.referrals_past_expiry(now, [s.value for s in expirable], limit)
    expired = 0
    for referral in rows:
        expired += await expire_referral(audit, referral, now=now)
    await repository.purge_idempotency_records(now - IDEMPOTENCY_RETENTION)
    return expired


async def expire_referral(audit: AuditTrail, referral: records.Referral, *, now: datetime) -> bool:
    """The system expires one referral (the ladder's last rung, or the expiry job); False when it
    changed meanwhile (a version-checked update: several instances expire it once)."""
    if Status(referral.status) not in lifecycle.RULES[Action.EXPIRE].from_statuses:
        return False
    updated = await repository.update_versioned(
        referral.id,
        referral.version,
        {
            "status": Status.EXPIRED.value,
            "status_changed_at": now,
            "updated_at": now,
            "due_at": NO_DEADLINE,
        },
    )
    if updated is None:
        return False
    await repository.insert_event(
        referral_id=referral.id,
        actor_id=None,
        action=Action.EXPIRE.value,
        from_status=referral.status,
        to_status=Status.EXPIRED.value,
        reason_code="VALIDITY_WINDOW_PASSED",
        note="",
        occurred_at=now,
    )
    await emit(ReferralChanged(before=referral, after=updated, action=Action.EXPIRE.value))
    audit.record(
        AuditAction.REFERRAL_CHANGED,
        organization_id=referral.referring_organization,
        object_type="Referral",
        object_id=referral.id,
    )
    return True


async def record_automated_step(
    audit: AuditTrail, referral: records.Referral, *, action: str, rule: str, note: str, now: datetime
) -> None:
    """A reminder or escalation the system sent: a timeline entry by the system actor (``note``:
    the rule, its deadline and who was told, sealed like every timeline note) and an audit entry.
    The referral itself does not change (no new version)."""
    await repository.insert_event(
        referral_id=referral.id,
        actor_id=None,
        action=action,
        from_status=referral.status,
        to_status=referral.status,
        reason_code=rule,
        note=note,
        occurred_at=now,
        wrapped_key=referral.wrapped_key,
    )
    audit.record(
        AuditAction.REFERRAL_AUTOMATION,
        organization_id=referral.receiving_organization,
        object_type="Referral",
        object_id=referral.id,
    )


def _view_filter(actor: Actor, view: InboxView, organization_id: UUID | None) -> Any:
    if view == InboxView.INCOMING:
        return access.receiving_side_filter(actor)
    if view == InboxView.OUTGOING:
        return access.referring_side_filter(actor)
    return access.organization_queue_filter(actor, organization_id)


async def inbox(
    actor: Actor,
    audit: AuditTrail,
    *,
    view: InboxView,
    organization_id: UUID | None,
    filters: repository.InboxFilters,
    after: repository.InboxKey | None,
    limit: int,
) -> list[Outcome]:
    """A page of the caller's referrals, by priority then due time; every row read is audited."""
    visibility = _view_filter(actor, view, organization_id)
    if visibility is None:
        return []
    rows = await repository.inbox_page(visibility, filters, after, limit)
    audit_reads(actor, audit, rows)
    return [Outcome(row, access.parties(actor, row)) for row in rows]


async def status_counts(
    actor: Actor, *, view: InboxView, organization_id: UUID | None, filters: repository.InboxFilters
) -> dict[str, int]:
    visibility = _view_filter(actor, view, organization_id)
    if visibility is None:
        return {}
    return await repository.counts_by_status(visibility, filters)


def inbox_key(referral: records.Referral) -> repository.InboxKey:
    return repository.InboxKey(referral.priority_rank, referral.due_at, referral.id)
