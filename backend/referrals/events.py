"""What the realtime stream hears about a referral change (ids, codes and times; never PHI).

Each function queues events for everyone who may see the referral after the change.
"""

from __future__ import annotations

from typing import Any

from backend.realtime.events import EventType, emit
from backend.referrals import access

Row = dict[str, Any]


def _common(referral: Row, action: str) -> dict[str, Any]:
    return {"version": referral["version"], "status": referral["status"], "action": action}


async def referral_changed(before: Row | None, after: Row, action: str) -> None:
    recipients = await access.recipients(after)
    if before is None:
        event_type, extra = EventType.REFERRAL_CREATED, {}
    elif before["status"] != after["status"]:
        event_type = EventType.REFERRAL_STATUS_CHANGED
        extra = {"previousStatus": before["status"], "reasonCode": after["status_reason"]}
    else:
        event_type, extra = EventType.REFERRAL_UPDATED, {}
    emit(event_type, referral_id=after["id"], payload=_common(after, action) | extra, recipients=recipients)


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
        recipients=await access.recipients(referral),
    )


async def document_added(referral: Row, document_id: str, kind: str, action: str) -> None:
    emit(
        EventType.DOCUMENT_ADDED,
        referral_id=referral["id"],
        payload=_common(referral, action) | {"documentId": document_id, "kind": kind},
        recipients=await access.recipients(referral),
    )
