"""Deciding who gets a push, in the transaction of the change that causes it.

    the push decider (backend/push/subscribers.py) names the users: a referral change's
    recipients minus the actor (the receiving side only for a ROUTE), a message's other members,
    an automated step's audience
        ──► per recipient: category switched on? quiet hours (STAT and priority messages break
            through)? ──► one outbox row per registered device, due after a short grace period
    after COMMIT ──► the in-process dispatcher is woken

The grace period lets a device that is connected live receive the event over its socket first:
the socket then marks the row SKIPPED (backend/push/live.py) and no push goes out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.core import leases
from backend.core.clock import utcnow
from backend.core.ids import global_id
from backend.messaging import records
from backend.push import repository
from backend.push.codes import Category, OutboxStatus, PushType
from backend.push.payloads import CATEGORY_OF, Notification
from backend.push.records import PushPreferences
from backend.referrals import records as referral_records

GRACE = timedelta(milliseconds=1500)
WAKE = leases.DispatcherWake()


def on_outbox_written(wake: Callable[[], None] | None) -> None:
    """The in-process dispatcher's wake-up, called after a commit that wrote outbox rows."""
    WAKE.set(wake)


def set_grace(grace: timedelta) -> None:
    global GRACE  # noqa: PLW0603 - configured once at start-up
    GRACE = grace


async def notify(
    recipients: list[UUID],
    notification: Notification,
    *,
    event_id: UUID | None,
    breaks_quiet_hours: bool,
    per_user: Callable[[UUID], Notification] | None = None,
) -> list[UUID]:
    """Queue the notification for every device of every recipient who wants it; returns the
    users with at least one row (the stream event remembers them for live suppression)."""
    if not recipients:
        return []
    now = utcnow()
    category = CATEGORY_OF[notification.type]
    devices = [
        (device, badge)
        for device, badge in await repository.devices_with_badges(recipients)
        if _wants(device.settings, category) and (breaks_quiet_hours or not _quiet(device.settings, now))
    ]
    if not devices:
        return []
    rows: list[repository.OutboxRow] = []
    for device, badge in devices:
        chosen = per_user(device.user) if per_user else notification
        stored = chosen.stored(created_epoch=int(now.timestamp())) | {"badge": badge}
        rows.append(
            {
                "id": uuid.uuid4(),
                "device": device.id,
                "user": device.user,
                "category": category.value,
                "event_id": event_id,
                "message": stored,
                "status": OutboxStatus.PENDING.value,
                "next_attempt_at": now + GRACE,
                "created_at": now,
            }
        )
    await repository.insert_outbox(rows)
    WAKE.after_commit()
    return sorted({row["user"] for row in rows}, key=str)


def _wants(settings: PushPreferences | None, category: Category) -> bool:
    if settings is None:
        return True
    if category is Category.REFERRAL_UPDATES:
        return settings.referral_updates
    if category is Category.MESSAGES:
        return settings.messages
    if category is Category.ESCALATIONS:
        return settings.escalations
    return settings.reminders


def _quiet(settings: PushPreferences | None, now: datetime) -> bool:
    """Whether ``now`` falls in the user's quiet hours, in their own time zone."""
    if settings is None or not settings.quiet_start or not settings.quiet_end:
        return False
    try:
        zone = ZoneInfo(settings.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).time()
    start, end = time.fromisoformat(settings.quiet_start), time.fromisoformat(settings.quiet_end)
    if start <= end:
        return start <= local < end
    return local >= start or local < end


def referral_notification(
    push_type: PushType, referral: referral_records.Referral, *, action: str, actionable: bool
) -> Notification:
    priority = referral.priority
    return Notification(
        type=push_type,
        data={
            "referralId": global_id("Referral", referral.id),
            "referralVersion": str(referral.version),
            "status": referral.status,
            "action": action,
            "priority": priority,
        },
        high_priority=priority in {"STAT", "URGENT"},
        collapse_key=f"r-{referral.id}",
        actionable=actionable,
    )


def message_notification(message: records.Message) -> Notification:
    return Notification(
        type=PushType.NEW_MESSAGE,
        data={
            "conversationId": global_id("Conversation", message.conversation),
            "messageId": global_id("Message", message.id),
            "messageSequence": str(message.sequence),
        },
        high_priority=bool(message.is_priority),
    )
