"""Every referral query: referrals, timeline, documents, appointments, idempotency records.

Changes to a referral go through :func:`update_versioned`, an ``UPDATE … WHERE version = ?
RETURNING`` that bumps the version: of two concurrent writers holding the same version exactly
one gets a row back. The inbox pages by keyset on ``(priority_rank, due_at, id)``.

Reads return typed records (backend/referrals/records.py), built from the selected row once its
sealed columns are decrypted; writes take the columns to write (:data:`Columns`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.select import Select

from backend.crypto import envelope
from backend.crypto.keys import key_encryption_keys
from backend.crypto.rotation import WrappedKeys
from backend.db import fetch, keyset_pages, select_columns
from backend.referrals import records
from backend.referrals.codes import AppointmentStatus
from backend.referrals.tables import Appointment, Document, IdempotencyRecord, Referral, ReferralEvent

# column name -> value: a row as Piccolo selects it (before it becomes a record), or what to write
Columns = dict[str, Any]
SCOPE = "referral"
WRAPPED_KEYS = WrappedKeys(
    Referral, Referral.id, Referral.wrapped_key, scope=SCOPE
)  # rotated by `keys rotate`
ENCRYPTED_FIELDS = frozenset({"reason", "clinical_question", "relevant_history", "outcome_report"})
DOCUMENT_SEALED_FIELDS = ("filename", "sha256")
SEAL_BATCH = 500
DOCUMENT_SEAL_BATCH = 20  # rows carry their content (up to the attachment limit each)
DOCUMENT_COLUMNS = (
    Document.id,
    Document.referral,
    Document.kind,
    Document.media_type,
    Document.filename,
    Document.size_bytes,
    Document.sha256,
    Document.is_outcome,
    Document.source_message,
    Document.added_by,
    Document.created_at,
    Document.linked_document,
)
# the original's sealed fields, for a document carried over by a redirect (LEFT JOIN on itself)
LINKED_COLUMNS = (
    Document.linked_document._.referral.as_alias("linked_referral"),
    Document.linked_document._.filename.as_alias("linked_filename"),
    Document.linked_document._.sha256.as_alias("linked_sha256"),
)


async def insert_referral(values: Columns) -> records.Referral:
    """Insert a referral, its clinical text sealed under a new data key of its own."""
    referral_id = values.get("id") or uuid.uuid4()
    data_key = envelope.new_data_key()
    text = dict.fromkeys(ENCRYPTED_FIELDS, "")
    sealed = _seal({**text, **values, "id": referral_id}, data_key)
    sealed["wrapped_key"] = envelope.wrap_data_key(
        key_encryption_keys(), data_key, scope=SCOPE, record_id=str(referral_id)
    )
    await Referral(**sealed).save()
    referral = await referral_by_id(referral_id)
    assert referral is not None
    return referral


REFERRAL_COLUMNS = select_columns(Referral)  # also for other domains' statements returning referrals


async def referral_by_id(referral_id: UUID) -> records.Referral | None:
    rows = await fetch(Referral, f"SELECT {REFERRAL_COLUMNS} FROM referral WHERE id = {{}}", referral_id)  # noqa: S608
    return _opened(rows[0]) if rows else None


async def referrals_by_ids(ids: Sequence[UUID]) -> list[records.Referral]:
    if not ids:
        return []
    rows: list[Columns] = await Referral.select().where(Referral.id.is_in(list(ids)))
    return [_opened(row) for row in rows]


async def update_versioned(
    referral_id: UUID, expected_version: int, changes: Columns
) -> records.Referral | None:
    """Apply ``changes`` only if the referral is still at ``expected_version``; bump the version."""
    if any(name in ENCRYPTED_FIELDS for name in changes):
        current = await Referral.select(Referral.wrapped_key).where(Referral.id == referral_id).first()
        if current is None:
            return None
        changes = _seal({**changes, "id": referral_id}, _data_key(referral_id, current["wrapped_key"]))
        changes.pop("id")
    values = {getattr(Referral, name): value for name, value in changes.items()}
    values[Referral.version] = expected_version + 1
    rows = await (
        Referral.update(values)
        .where((Referral.id == referral_id) & (Referral.version == expected_version))
        .returning(*Referral.all_columns())
    )
    return _opened(rows[0]) if rows else None


def _data_key(referral_id: UUID, wrapped_key: str) -> bytes:
    return envelope.unwrap_data_key(
        key_encryption_keys(), wrapped_key, scope=SCOPE, record_id=str(referral_id)
    )


def _seal(values: Columns, data_key: bytes) -> Columns:
    record_id = str(values["id"])
    return {
        name: envelope.encrypt_field(data_key, value or "", scope=SCOPE, record_id=record_id, field=name)
        if name in ENCRYPTED_FIELDS
        else value
        for name, value in values.items()
    }


def referral_of_row(row: Columns) -> records.Referral:
    """A full referral row read by another domain's statement (``REFERRAL_COLUMNS``), opened."""
    return _opened(row)


def _opened(row: Columns) -> records.Referral:
    """The referral, its clinical text decrypted (rows from before encryption pass as they are)."""
    if not row.get("wrapped_key"):
        return records.Referral(**row)
    record_id = str(row["id"])
    data_key = _data_key(row["id"], row["wrapped_key"])
    opened: Columns = {
        name: envelope.decrypt_field(data_key, value, scope=SCOPE, record_id=record_id, field=name)
        if name in ENCRYPTED_FIELDS
        else value
        for name, value in row.items()
    }
    return records.Referral(**opened)


async def insert_event(
    *,
    referral_id: UUID,
    actor_id: UUID | None,
    action: str,
    from_status: str | None,
    to_status: str,
    reason_code: str | None,
    note: str,
    occurred_at: datetime,
    wrapped_key: str | None = None,
) -> None:
    """Append to the timeline; a note (clinical free text) is sealed under the referral's key
    (``wrapped_key``: the referral's, when the caller has it: one read less)."""
    uid = uuid.uuid4()
    if note:
        if wrapped_key is None:
            keys = await _data_keys([referral_id])
            key = keys.get(referral_id)
        else:
            key = _data_key(referral_id, wrapped_key) if wrapped_key else None
        if key is not None:
            note = envelope.encrypt_field(
                key, note, scope=SCOPE, record_id=str(referral_id), field=_note_field(uid)
            )
    await fetch(
        ReferralEvent,
        "INSERT INTO referral_event (uid, referral, actor, action, from_status, to_status, reason_code, "
        "note, occurred_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        uid,
        referral_id,
        actor_id,
        action,
        from_status,
        to_status,
        reason_code,
        note,
        occurred_at,
    )


def _note_field(event_uid: UUID) -> str:
    """The envelope field of a timeline note."""
    return f"note:{event_uid}"


async def events_of_referrals(referral_ids: Sequence[UUID]) -> dict[UUID, list[records.ReferralEvent]]:
    grouped: dict[UUID, list[records.ReferralEvent]] = defaultdict(list)
    if not referral_ids:
        return grouped
    rows = (
        await ReferralEvent.select()
        .where(ReferralEvent.referral.is_in(list(referral_ids)))
        .order_by(ReferralEvent.id)
    )
    keys = await _data_keys(row["referral"] for row in rows if row["note"])
    for row in rows:
        key = keys.get(row["referral"])
        if key is not None and row["note"].startswith(envelope.FIELD_PREFIX):
            row["note"] = envelope.decrypt_field(
                key, row["note"], scope=SCOPE, record_id=str(row["referral"]), field=_note_field(row["uid"])
            )
        grouped[row["referral"]].append(records.ReferralEvent(**row))
    return grouped


async def seal_text(referral_id: UUID, field: str, text: str) -> str | None:
    """``text`` sealed under the referral's data key as ``field`` (for text another domain keeps
    about the referral, e.g. a survey comment); None when the referral has no data key."""
    keys = await _data_keys([referral_id])
    if referral_id not in keys:
        return None
    return envelope.encrypt_field(
        keys[referral_id], text, scope=SCOPE, record_id=str(referral_id), field=field
    )


async def open_texts(sealed: Sequence[tuple[UUID, str, str]]) -> list[str]:
    """The plaintext of each (referral id, field, stored text) sealed by :func:`seal_text`, in
    one statement for all their data keys (empty or unsealed text passes as it is)."""
    keys = await _data_keys(referral_id for referral_id, _, stored in sealed if stored)
    opened: list[str] = []
    for referral_id, field, stored in sealed:
        key = keys.get(referral_id)
        if key is None or not stored.startswith(envelope.FIELD_PREFIX):
            opened.append(stored)
            continue
        opened.append(
            envelope.decrypt_field(key, stored, scope=SCOPE, record_id=str(referral_id), field=field)
        )
    return opened


async def _data_keys(referral_ids: Iterable[UUID]) -> dict[UUID, bytes]:
    """The unwrapped data keys of these referrals (those written before encryption have none)."""
    unique = sorted(set(referral_ids), key=str)
    if not unique:
        return {}
    rows = await Referral.select(Referral.id, Referral.wrapped_key).where(Referral.id.is_in(unique))
    return {row["id"]: _data_key(row["id"], row["wrapped_key"]) for row in rows if row["wrapped_key"]}


@dataclass(frozen=True, slots=True)
class InboxFilters:
    statuses: Sequence[str] = ()
    priorities: Sequence[str] = ()
    specialty_codes: Sequence[str] = ()
    patient_id: UUID | None = None
    provider_id: UUID | None = None
    overdue_at: datetime | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class InboxKey:
    priority_rank: int
    due_at: datetime
    id: UUID


def _filtered(query: Any, visibility: Any, filters: InboxFilters) -> Any:
    query = query.where(visibility)
    if filters.statuses:
        query = query.where(Referral.status.is_in(list(filters.statuses)))
    if filters.priorities:
        query = query.where(Referral.priority.is_in(list(filters.priorities)))
    if filters.specialty_codes:
        query = query.where(Referral.specialty._.code.is_in(list(filters.specialty_codes)))
    if filters.patient_id is not None:
        query = query.where(Referral.patient == filters.patient_id)
    if filters.provider_id is not None:
        query = query.where(
            (Referral.referring_provider == filters.provider_id)
            | (Referral.receiving_provider == filters.provider_id)
        )
    if filters.overdue_at is not None:
        query = query.where(Referral.due_at < filters.overdue_at)
    if filters.created_from is not None:
        query = query.where(Referral.created_at >= filters.created_from)
    if filters.created_to is not None:
        query = query.where(Referral.created_at < filters.created_to)
    return query


async def inbox_page(
    visibility: Any, filters: InboxFilters, after: InboxKey | None, limit: int
) -> list[records.Referral]:
    """One page in priority, then due-time order; one statement whatever the page size."""
    query = _filtered(Referral.select(), visibility, filters)
    if after is not None:
        query = query.where(
            (Referral.priority_rank > after.priority_rank)
            | ((Referral.priority_rank == after.priority_rank) & (Referral.due_at > after.due_at))
            | (
                (Referral.priority_rank == after.priority_rank)
                & (Referral.due_at == after.due_at)
                & (Referral.id > after.id)
            )
        )
    rows: list[Columns] = await query.order_by(Referral.priority_rank, Referral.due_at, Referral.id).limit(
        limit
    )
    return [_opened(row) for row in rows]


async def counts_by_status(visibility: Any, filters: InboxFilters) -> dict[str, int]:
    query = _filtered(Referral.select(Referral.status, Count()), visibility, filters)
    rows = await query.group_by(Referral.status)
    return {row["status"]: row["count"] for row in rows}


async def any_visible_referral_for_patient(patient_id: UUID, visibility: Any) -> bool:
    if visibility is None:
        return False
    exists: bool = await Referral.exists().where((Referral.patient == patient_id) & visibility)
    return exists


async def insert_document(values: Columns) -> UUID:
    """Insert a document, its content, file name and SHA-256 sealed under the referral's data key
    (a file name often names the patient; a plain hash would confirm a guessed file)."""
    document_id = values.get("id") or uuid.uuid4()
    referral_id = values["referral"]
    keys = await _data_keys([referral_id])
    sealed = {**values, "id": document_id}
    if referral_id in keys:
        key, record_id = keys[referral_id], str(referral_id)
        sealed["content"] = envelope.encrypt_bytes(
            key, values["content"], scope=SCOPE, record_id=record_id, field=_document_field(document_id)
        )
        sealed.update(_sealed_document_fields(key, referral_id, document_id, values))
    await Document(**sealed).save()
    return UUID(str(document_id))


def _document_field(document_id: UUID, part: str | None = None) -> str:
    """The envelope field of a document's content (no ``part``), file name or hash."""
    return f"document:{document_id}" if part is None else f"document:{document_id}:{part}"


def _sealed_document_fields(key: bytes, referral_id: UUID, document_id: UUID, values: Columns) -> Columns:
    record_id = str(referral_id)
    return {
        name: envelope.encrypt_field(
            key, values[name], scope=SCOPE, record_id=record_id, field=_document_field(document_id, name)
        )
        for name in DOCUMENT_SEALED_FIELDS
    }


def _opened_document(row: Columns, keys: dict[UUID, bytes]) -> Columns:
    """The document row (selected with :data:`LINKED_COLUMNS`) with its file name and hash
    decrypted, in place; a linked row gets the original's, opened with the original referral's
    key. Rows from before they were sealed hold them plain; the hash tells which (a hex digest
    never starts with the sealed prefix)."""
    linked_referral = row.pop("linked_referral")
    linked = {name: row.pop(f"linked_{name}") for name in DOCUMENT_SEALED_FIELDS}
    if row["linked_document"] is not None:
        row.update(linked)
        document_id, referral_id = row["linked_document"], linked_referral
    else:
        document_id, referral_id = row["id"], row["referral"]
    key = keys.get(referral_id)
    if key is None or not row["sha256"].startswith(envelope.FIELD_PREFIX):
        return row
    for name in DOCUMENT_SEALED_FIELDS:
        row[name] = envelope.decrypt_field(
            key,
            row[name],
            scope=SCOPE,
            record_id=str(referral_id),
            field=_document_field(document_id, name),
        )
    return row


def _key_owners(rows: Iterable[Columns]) -> list[UUID]:
    """The referrals whose data keys open these rows (selected with :data:`LINKED_COLUMNS`)."""
    return [row["linked_referral"] if row["linked_document"] else row["referral"] for row in rows]


async def seal_legacy_referrals() -> tuple[int, int]:
    """Give referrals written before encryption a data key of their own, sealing their clinical
    text, then seal the timeline notes still stored plain (idempotent and restartable, each row
    sealed by one conditional UPDATE; run by ``migrate`` before :func:`seal_legacy_documents`).
    Returns (referrals, notes) sealed."""
    referrals = 0

    def keyless() -> Select[Any]:
        text = (getattr(Referral, name) for name in sorted(ENCRYPTED_FIELDS))
        return Referral.select(Referral.id, *text).where(Referral.wrapped_key == "")

    async for rows in keyset_pages(keyless, Referral.id, SEAL_BATCH):
        for row in rows:
            data_key = envelope.new_data_key()
            values = _seal(row, data_key)
            del values["id"]
            values["wrapped_key"] = envelope.wrap_data_key(
                key_encryption_keys(), data_key, scope=SCOPE, record_id=str(row["id"])
            )
            changed = await (
                Referral.update({getattr(Referral, name): value for name, value in values.items()})
                .where((Referral.id == row["id"]) & (Referral.wrapped_key == ""))
                .returning(Referral.id)
            )
            referrals += len(changed)
    return referrals, await _seal_legacy_notes()


async def _seal_legacy_notes() -> int:
    sealed = 0

    def plain_notes() -> Select[Any]:
        return ReferralEvent.select(
            ReferralEvent.id, ReferralEvent.uid, ReferralEvent.referral, ReferralEvent.note
        ).where((ReferralEvent.note != "") & ReferralEvent.note.not_like(f"{envelope.FIELD_PREFIX}%"))

    async for rows in keyset_pages(plain_notes, ReferralEvent.id, SEAL_BATCH):
        keys = await _data_keys(row["referral"] for row in rows)
        for row in rows:
            if row["referral"] not in keys:  # sealed by a later pass, once the referral has a key
                continue
            note = envelope.encrypt_field(
                keys[row["referral"]],
                row["note"],
                scope=SCOPE,
                record_id=str(row["referral"]),
                field=_note_field(row["uid"]),
            )
            changed = await (
                ReferralEvent.update({ReferralEvent.note: note})
                .where((ReferralEvent.id == row["id"]) & (ReferralEvent.note == row["note"]))
                .returning(ReferralEvent.id)
            )
            sealed += len(changed)
    return sealed


async def seal_legacy_documents() -> int:
    """Seal what documents stored before sealing hold plain: file name and hash, and the content
    of those added to a referral before it had a data key (idempotent; run by ``migrate``, after
    :func:`seal_legacy_referrals`). Returns how many documents were sealed."""
    sealed = 0

    def plain_names() -> Select[Any]:
        return Document.select(
            Document.id, Document.referral, Document.filename, Document.sha256, Document.content
        ).where(Document.sha256.not_like(f"{envelope.FIELD_PREFIX}%") & Document.linked_document.is_null())

    async for rows in keyset_pages(plain_names, Document.id, DOCUMENT_SEAL_BATCH):
        keys = await _data_keys(row["referral"] for row in rows)
        for row in rows:
            if row["referral"] not in keys:  # a referral from before encryption: nothing to seal with
                continue
            key = keys[row["referral"]]
            values = _sealed_document_fields(key, row["referral"], row["id"], row)
            content = bytes(row["content"])
            if not envelope.is_sealed_bytes(content):
                values["content"] = envelope.encrypt_bytes(
                    key,
                    content,
                    scope=SCOPE,
                    record_id=str(row["referral"]),
                    field=_document_field(row["id"]),
                )
            changed = await (
                Document.update({getattr(Document, name): value for name, value in values.items()})
                .where((Document.id == row["id"]) & (Document.sha256 == row["sha256"]))
                .returning(Document.id)
            )
            sealed += len(changed)
    return sealed


async def latest_document_from_message(referral_id: UUID, message_id: UUID) -> UUID | None:
    row = (
        await Document.select(Document.id)
        .where((Document.referral == referral_id) & (Document.source_message == message_id))
        .order_by(Document.created_at, ascending=False)
        .first()
    )
    return row["id"] if row else None


async def count_documents(referral_id: UUID) -> int:
    count: int = await Document.count().where(Document.referral == referral_id)
    return count


async def documents_of_referrals(referral_ids: Sequence[UUID]) -> dict[UUID, list[records.Document]]:
    grouped: dict[UUID, list[records.Document]] = defaultdict(list)
    if not referral_ids:
        return grouped
    rows = (
        await Document.select(*DOCUMENT_COLUMNS, *LINKED_COLUMNS)
        .where(Document.referral.is_in(list(referral_ids)))
        .order_by(Document.created_at)
    )
    keys = await _data_keys(_key_owners(rows))
    for row in rows:
        grouped[row["referral"]].append(records.Document(**_opened_document(row, keys)))
    return grouped


async def document_by_id(document_id: UUID) -> records.DocumentWithContent | None:
    """The document with its content, decrypted (a linked document's is the original's)."""
    row: Columns | None = (
        await Document.select(
            *DOCUMENT_COLUMNS,
            Document.content,
            *LINKED_COLUMNS,
            Document.linked_document._.content.as_alias("linked_content"),
        )
        .where(Document.id == document_id)
        .first()
    )
    if row is None:
        return None
    keys = await _data_keys(_key_owners([row]))
    linked_content = row.pop("linked_content")
    if row["linked_document"] is not None:
        row["content"] = linked_content
        sealer_id, sealer_referral = row["linked_document"], row["linked_referral"]
    else:
        sealer_id, sealer_referral = row["id"], row["referral"]
    row = _opened_document(row, keys)
    content = bytes(row["content"] or b"")
    if envelope.is_sealed_bytes(content):
        content = envelope.decrypt_bytes(
            keys[sealer_referral],
            content,
            scope=SCOPE,
            record_id=str(sealer_referral),
            field=_document_field(sealer_id),
        )
    row["content"] = content
    return records.DocumentWithContent(**row)


async def insert_linked_documents(referral_id: UUID, originals: Sequence[records.Document]) -> list[UUID]:
    """Give the referral a document linked to each original (one statement): kind, media type,
    size and uploader repeated, no content, file name or hash of its own (those stay sealed once,
    in the original, under its referral's key). A linked original links on to its own original."""
    if not originals:
        return []
    rows = [
        Document(
            id=uuid.uuid4(),
            referral=referral_id,
            kind=original.kind,
            media_type=original.media_type,
            filename="",
            size_bytes=original.size_bytes,
            sha256="",
            content=b"",
            is_outcome=False,
            source_message=None,
            added_by=original.added_by,
            created_at=original.created_at,
            linked_document=original.linked_document or original.id,
        )
        for original in originals
    ]
    await Document.insert(*rows)
    return [UUID(str(row.id)) for row in rows]


async def document_kinds(referral_id: UUID) -> set[str]:
    rows = await Document.select(Document.kind).where(Document.referral == referral_id)
    return {row["kind"] for row in rows}


async def insert_appointment(values: Columns) -> records.Appointment:
    appointment = Appointment(**values)
    await appointment.save()
    row: Columns | None = await Appointment.select().where(Appointment.id == appointment.id).first()
    assert row is not None
    return records.Appointment(**row)


async def booked_appointment(referral_id: UUID) -> records.Appointment | None:
    row: Columns | None = (
        await Appointment.select()
        .where((Appointment.referral == referral_id) & (Appointment.status == AppointmentStatus.BOOKED.value))
        .first()
    )
    return records.Appointment(**row) if row else None


async def set_appointment_status(appointment_id: UUID, status: AppointmentStatus) -> None:
    await Appointment.update({Appointment.status: status.value}).where(Appointment.id == appointment_id)


async def latest_appointments(referral_ids: Sequence[UUID]) -> dict[UUID, records.Appointment]:
    latest: dict[UUID, records.Appointment] = {}
    if not referral_ids:
        return latest
    rows = (
        await Appointment.select()
        .where(Appointment.referral.is_in(list(referral_ids)))
        .order_by(Appointment.created_at)
    )
    for row in rows:
        latest[row["referral"]] = records.Appointment(**row)
    return latest


async def claim_idempotency_key(
    *, user_id: UUID, key: str, operation: str, request_hash: str, now: datetime
) -> records.IdempotencyRecord | None:
    """Reserve the key, or return the record that already holds it.

    On PostgreSQL a concurrent holder's uncommitted insert makes this insert wait; once that
    transaction commits, the conflict is reported and its record read back.
    """
    inserted = await fetch(
        IdempotencyRecord,
        'INSERT INTO idempotency_record (id, "user", key, operation, request_hash, created_at) '
        "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        uuid.uuid4(),
        user_id,
        key,
        operation,
        request_hash,
        now,
    )
    if inserted:
        return None
    row: Columns | None = (
        await IdempotencyRecord.select()
        .where((IdempotencyRecord.user == user_id) & (IdempotencyRecord.key == key))
        .first()
    )
    return records.IdempotencyRecord(**row) if row else None


async def complete_idempotency_key(user_id: UUID, key: str, referral_id: UUID) -> None:
    await IdempotencyRecord.update({IdempotencyRecord.referral_id: str(referral_id)}).where(
        (IdempotencyRecord.user == user_id) & (IdempotencyRecord.key == key)
    )


async def release_idempotency_key(user_id: UUID, key: str) -> None:
    await IdempotencyRecord.delete().where(
        (IdempotencyRecord.user == user_id) & (IdempotencyRecord.key == key)
    )


async def purge_idempotency_records(older_than: datetime) -> None:
    await IdempotencyRecord.delete().where(IdempotencyRecord.created_at < older_than)


async def referrals_past_expiry(now: datetime, statuses: Sequence[str], limit: int) -> list[records.Referral]:
    rows: list[Columns] = (
        await Referral.select()
        .where(
            Referral.expires_at.is_not_null()
            & (Referral.expires_at < now)
            & Referral.status.is_in(list(statuses))
        )
        .limit(limit)
    )
    return [_opened(row) for row in rows]


ACCESS_COLUMNS = (
    Referral.id,
    Referral.version,
    Referral.status,
    Referral.referring_provider,
    Referral.referring_organization,
    Referral.receiving_provider,
    Referral.receiving_organization,
)


async def access_rows(ids: Sequence[UUID]) -> list[records.ReferralAccess]:
    """Just what the access rule reads (no clinical text, nothing to decrypt)."""
    if not ids:
        return []
    rows: list[Columns] = await Referral.select(*ACCESS_COLUMNS).where(Referral.id.is_in(list(ids)))
    return [records.ReferralAccess(**row) for row in rows]


async def organizations_share_referral(first: Sequence[UUID], second: Sequence[UUID]) -> bool:
    """Whether a referral (sent, not a draft) links an organization of ``first`` with one of ``second``."""
    if not first or not second:
        return False
    one_way = Referral.referring_organization.is_in(list(first)) & Referral.receiving_organization.is_in(
        list(second)
    )
    other_way = Referral.referring_organization.is_in(list(second)) & Referral.receiving_organization.is_in(
        list(first)
    )
    found: bool = await Referral.exists().where((one_way | other_way) & (Referral.status != "DRAFT"))
    return found
