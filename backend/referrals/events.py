"""What the realtime stream hears about a referral change (ids, codes and times; never PHI).

Each function queues events for everyone who may see the referral after the change.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend.db import current_unit_of_work
from backend.push import referral_pushes as pushes
from backend.realtime.events import EventType, access_changed, emit
from backend.referrals import access

Row = dict[str, Any]
RECIPIENTS_KEY = "referrals.recipients"


async def _recipients(referral: Row) -> list[UUID]:
    """Who may see the referral at this version; computed once per unit of work (one change
    can raise a status, an appointment and a document event)."""
    cache: dict[tuple[Any, int], list[UUID]] = current_unit_of_work().extensions.setdefault(
        RECIPIENTS_KEY, {}
    )
    key = (referral["id"], referral["version"])
    found = cache.get(key)
    if found is None:
        found = cache[key] = await access.recipients(referral)
    return found


def _common(referral: Row, action: str) -> dict[str, Any]:
    return {"version": referral["version"], "status": referral["status"], "action": action}


PARTY_FIELDS = (
    "referring_provider",
    "referring_organization",
    "receiving_provider",
    "receiving_organization",
)


async def referral_changed(
    before: Row | None, after: Row, action: str, *, actor_id: UUID | None = None
) -> None:
    recipients = await _recipients(after)
    if before is not None and any(before[name] != after[name] for name in PARTY_FIELDS):
        removed = set(await access.recipients(before)) - set(recipients)
        if removed:  # their open subscriptions to the referral (and its chat) re-check at once
            access_changed(sorted(removed, key=str))
    if before is None:
        event_type, extra = EventType.REFERRAL_CREATED, {}
    elif before["status"] != after["status"]:
        event_type = EventType.REFERRAL_STATUS_CHANGED
        extra = {"previousStatus": before["status"], "reasonCode": after["status_reason"]}
    else:
        event_type, extra = EventType.REFERRAL_UPDATED, {}
    event = emit(
        event_type, referral_id=after["id"], payload=_common(after, action) | extra, recipients=recipients
    )
    if before is not None:
        event.push_users = await pushes.referral_changed(
            before, after, action, recipients, actor_id, event.event_id
        )


async def appointment_changed(referral: Row, appointment: Row, action: str) -> None:
    emit(
        EventType.APPOINTMENT_CHANGED,
        referral_id=referral["id"],
        payload=_common(referral, action)
        | {
            "appointmentId": str(appointment["id"]),
            "appointmentStatus": appointment["status"],
            "startsAt": appointment["starts_at"].isoformat(),
        },
        recipients=await _recipients(referral),
    )


async def document_added(referral: Row, document_id: str, kind: str, action: str) -> None:
    emit(
        EventType.DOCUMENT_ADDED,
        referral_id=referral["id"],
        payload=_common(referral, action) | {"documentId": document_id, "kind": kind},
        recipients=await _recipients(referral),
    )
