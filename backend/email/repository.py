"""Every e-mail outbox query: queue (sealed), claim due rows, record outcomes."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backend.core import leases
from backend.crypto import envelope
from backend.crypto.keys import key_encryption_keys
from backend.crypto.rotation import WrappedKeys
from backend.email import records
from backend.email.codes import EmailStatus
from backend.email.tables import EmailOutbox

SCOPE = "email"
WRAPPED_KEYS = WrappedKeys(EmailOutbox, EmailOutbox.id, EmailOutbox.wrapped_key, scope=SCOPE)
SEALED = ("recipient", "subject", "body")
CLAIM_COLUMNS = "id, kind, recipient, subject, body, wrapped_key, attempts"


async def queue(*, kind: str, to: str, subject: str, body: str, now: datetime) -> UUID:
    row_id = uuid.uuid4()
    record_id = str(row_id)
    data_key = envelope.new_data_key()
    plain = {"recipient": to, "subject": subject, "body": body}
    sealed = {
        name: envelope.encrypt_field(data_key, value, scope=SCOPE, record_id=record_id, field=name)
        for name, value in plain.items()
    }
    await EmailOutbox(
        id=row_id,
        kind=kind,
        recipient=sealed["recipient"],
        subject=sealed["subject"],
        body=sealed["body"],
        wrapped_key=envelope.wrap_data_key(key_encryption_keys(), data_key, scope=SCOPE, record_id=record_id),
        status=EmailStatus.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    ).save()
    return row_id


def opened(row: dict[str, Any]) -> records.Email:
    """A claimed row, its address, subject and body decrypted (``DecryptionFailed`` if not)."""
    record_id = str(row["id"])
    data_key = envelope.unwrap_data_key(
        key_encryption_keys(), row["wrapped_key"], scope=SCOPE, record_id=record_id
    )
    plain = {
        name: envelope.decrypt_field(data_key, row[name], scope=SCOPE, record_id=record_id, field=name)
        for name in SEALED
    }
    return records.Email(
        row_id=row["id"],
        kind=row["kind"],
        to=plain["recipient"],
        subject=plain["subject"],
        body=plain["body"],
        attempts=int(row["attempts"]),
    )


async def claim_due(*, now: datetime, lease: timedelta, limit: int, is_sqlite: bool) -> list[dict[str, Any]]:
    return await leases.claim_due(
        EmailOutbox,
        due_column="next_attempt_at",
        pending=EmailStatus.PENDING.value,
        columns=CLAIM_COLUMNS,
        now=now,
        lease=lease,
        limit=limit,
        is_sqlite=is_sqlite,
    )


async def mark_sent(row_id: UUID, *, now: datetime) -> None:
    """SENT, and nothing of the e-mail kept: its sealed address, subject and body are blanked."""
    await EmailOutbox.update(
        {
            EmailOutbox.status: EmailStatus.SENT.value,
            EmailOutbox.sent_at: now,
            EmailOutbox.claimed_until: None,
            EmailOutbox.reason: None,
            EmailOutbox.recipient: "",
            EmailOutbox.subject: "",
            EmailOutbox.body: "",
        }
    ).where(EmailOutbox.id == row_id)


async def mark_failed(row_id: UUID, reason: str) -> None:
    await EmailOutbox.update(
        {
            EmailOutbox.status: EmailStatus.FAILED.value,
            EmailOutbox.reason: reason,
            EmailOutbox.claimed_until: None,
        }
    ).where(EmailOutbox.id == row_id)


async def reschedule(row_id: UUID, *, at: datetime, reason: str) -> None:
    await EmailOutbox.update(
        {EmailOutbox.next_attempt_at: at, EmailOutbox.reason: reason, EmailOutbox.claimed_until: None}
    ).where(EmailOutbox.id == row_id)


async def next_due_at() -> datetime | None:
    row = (
        await EmailOutbox.select(EmailOutbox.next_attempt_at)
        .where(EmailOutbox.status == EmailStatus.PENDING.value)
        .order_by(EmailOutbox.next_attempt_at)
        .first()
    )
    return row["next_attempt_at"] if row else None
