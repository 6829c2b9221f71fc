"""Every push query: devices, settings, outbox rows, claiming due rows and recording outcomes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backend.core import leases
from backend.db import fetch, placeholders
from backend.push import records
from backend.push.codes import OutboxStatus, SkipReason
from backend.push.tables import PushDevice, PushOutbox, PushSettings
from backend.referrals.lifecycle import AWAITING_RESPONSE, Status

OutboxRow = dict[str, Any]
"""An outbox row: ``PushOutbox`` column values to insert, or the claimed ``CLAIM_COLUMNS``."""
CLAIM_COLUMNS = 'id, device, "user", category, event_id, message, attempts'

# referrals counted in a user's badge: waiting for the receiving provider's decision, or for the
# referring provider's answer to a request for information
_FOR_RECEIVER = tuple(sorted(status.value for status in AWAITING_RESPONSE))
_FOR_REFERRER = (Status.NEEDS_INFO.value,)


# --- devices ------------------------------------------------------------------------------------


async def upsert_device(
    *, user_id: UUID, device_id: str, platform: str, token: str, app_version: str, locale: str, now: datetime
) -> records.PushDevice:
    """One row per (user, device id); a token moved to another user or device leaves its old row."""
    await PushDevice.delete().where(
        (PushDevice.token == token) & ((PushDevice.user != user_id) | (PushDevice.device_id != device_id))
    )
    existing = (
        await PushDevice.select(PushDevice.id)
        .where((PushDevice.user == user_id) & (PushDevice.device_id == device_id))
        .first()
    )
    values: dict[Any, Any] = {
        PushDevice.platform: platform,
        PushDevice.token: token,
        PushDevice.app_version: app_version,
        PushDevice.locale: locale,
        PushDevice.updated_at: now,
    }
    if existing is None:
        device_uuid = uuid.uuid4()
        await PushDevice(
            id=device_uuid,
            user=user_id,
            device_id=device_id,
            platform=platform,
            token=token,
            app_version=app_version,
            locale=locale,
            created_at=now,
            updated_at=now,
        ).save()
    else:
        device_uuid = existing["id"]
        await PushDevice.update(values).where(PushDevice.id == device_uuid)
    row = await PushDevice.select().where(PushDevice.id == device_uuid).first()
    assert row is not None
    return records.PushDevice(**row)


async def devices_of_user(user_id: UUID) -> list[records.PushDevice]:
    rows = await PushDevice.select().where(PushDevice.user == user_id).order_by(PushDevice.created_at)
    return [records.PushDevice(**row) for row in rows]


async def devices_with_badges(user_ids: Sequence[UUID]) -> list[tuple[records.DeviceTarget, int]]:
    """The users' devices, each with its user's push preferences under ``settings`` (``None``
    when the user never saved any: the defaults apply) and its user's badge (:func:`_badge_counts`),
    in one statement: every send and every fired step with a recipient runs it."""
    if not user_ids:
        return []
    users = placeholders(len(user_ids))
    rows = await fetch(
        PushDevice,
        'SELECT push_device.id, push_device."user", push_device.device_id, push_device.locale, '  # noqa: S608
        "push_settings.id AS settings_id, push_settings.time_zone, push_settings.quiet_start, "
        "push_settings.quiet_end, push_settings.referral_updates, push_settings.messages, "
        "push_settings.reminders, push_settings.escalations, badge.badge FROM push_device "
        'LEFT JOIN push_settings ON push_settings."user" = push_device."user" '
        f'LEFT JOIN ({_badge_counts(len(user_ids))}) AS badge ON badge.user_id = push_device."user" '
        f'WHERE push_device."user" IN ({users})',
        *_badge_arguments(user_ids),
        *user_ids,
    )
    return [
        (
            records.DeviceTarget(
                id=row["id"],
                user=row["user"],
                device_id=row["device_id"],
                locale=row["locale"],
                settings=None
                if row["settings_id"] is None
                else records.PushPreferences(
                    time_zone=row["time_zone"],
                    quiet_start=row["quiet_start"],
                    quiet_end=row["quiet_end"],
                    referral_updates=row["referral_updates"],
                    messages=row["messages"],
                    reminders=row["reminders"],
                    escalations=row["escalations"],
                ),
            ),
            int(row["badge"] or 0),
        )
        for row in rows
    ]


async def delete_device(user_id: UUID, device_id: str) -> int:
    rows = (
        await PushDevice.delete()
        .where((PushDevice.user == user_id) & (PushDevice.device_id == device_id))
        .returning(PushDevice.id)
    )
    return len(rows)


async def delete_devices_of_user(user_id: UUID) -> None:
    await PushDevice.delete().where(PushDevice.user == user_id)


async def delete_device_by_id(device_uuid: UUID) -> None:
    await PushOutbox.update(
        {PushOutbox.status: OutboxStatus.SKIPPED.value, PushOutbox.reason: SkipReason.DEVICE_REMOVED.value}
    ).where((PushOutbox.device == device_uuid) & (PushOutbox.status == OutboxStatus.PENDING.value))
    await PushDevice.delete().where(PushDevice.id == device_uuid)


async def tokens_of_devices(device_ids: Sequence[UUID]) -> dict[UUID, records.DeviceToken]:
    if not device_ids:
        return {}
    rows = await PushDevice.select(PushDevice.id, PushDevice.token, PushDevice.locale).where(
        PushDevice.id.is_in(list(device_ids))
    )
    return {row["id"]: records.DeviceToken(**row) for row in rows}


# --- settings -----------------------------------------------------------------------------------


async def settings_of_users(user_ids: Sequence[UUID]) -> dict[UUID, records.PushSettings]:
    if not user_ids:
        return {}
    rows = await PushSettings.select().where(PushSettings.user.is_in(list(user_ids)))
    return {row["user"]: records.PushSettings(**row) for row in rows}


async def save_settings(
    user_id: UUID, preferences: records.PushPreferences, now: datetime
) -> records.PushSettings:
    values = {name: getattr(preferences, name) for name in records.PREFERENCE_FIELDS}
    existing = await PushSettings.select(PushSettings.id).where(PushSettings.user == user_id).first()
    if existing is None:
        await PushSettings(id=uuid.uuid4(), user=user_id, updated_at=now, **values).save()
    else:
        await PushSettings.update(
            {getattr(PushSettings, name): value for name, value in {**values, "updated_at": now}.items()}
        ).where(PushSettings.id == existing["id"])
    row = await PushSettings.select().where(PushSettings.user == user_id).first()
    assert row is not None
    return records.PushSettings(**row)


# --- outbox -------------------------------------------------------------------------------------


OUTBOX_ROWS_PER_STATEMENT = 1000  # 10 columns each: far below PostgreSQL's 32,767 parameters


_OUTBOX_INSERT = (
    'INSERT INTO push_outbox (id, device, "user", category, event_id, message, status, reason, attempts, '
    "next_attempt_at, claimed_until, created_at, sent_at, fcm_name) VALUES "
)
_OUTBOX_ROW = "({}, {}, {}, {}, {}, {}, {}, NULL, 0, {}, NULL, {}, NULL, NULL)"


async def insert_outbox(rows: Sequence[OutboxRow]) -> None:
    """One multi-row INSERT per chunk (a raw statement: building Piccolo's insert cost about a
    quarter of a millisecond of CPU per call, on every send and fired step with a device)."""
    for start in range(0, len(rows), OUTBOX_ROWS_PER_STATEMENT):
        chunk = rows[start : start + OUTBOX_ROWS_PER_STATEMENT]
        await fetch(
            PushOutbox,
            _OUTBOX_INSERT + ", ".join([_OUTBOX_ROW] * len(chunk)),
            *(
                value
                for row in chunk
                for value in (
                    row["id"],
                    row["device"],
                    row["user"],
                    row["category"],
                    row["event_id"],
                    json.dumps(row["message"]),
                    row["status"],
                    row["next_attempt_at"],
                    row["created_at"],
                )
            ),
        )


async def claim_due(*, now: datetime, lease: timedelta, limit: int, is_sqlite: bool) -> list[OutboxRow]:
    """Take up to ``limit`` due rows for ``lease`` (one statement, backend/core/leases.py:
    concurrent dispatchers on PostgreSQL skip each other's rows instead of waiting for them)."""
    return await leases.claim_due(
        PushOutbox,
        due_column="next_attempt_at",
        pending=OutboxStatus.PENDING.value,
        columns=CLAIM_COLUMNS,
        now=now,
        lease=lease,
        limit=limit,
        is_sqlite=is_sqlite,
    )


async def mark_sent(row_id: UUID, *, name: str | None, now: datetime) -> None:
    await PushOutbox.update(
        {
            PushOutbox.status: OutboxStatus.SENT.value,
            PushOutbox.sent_at: now,
            PushOutbox.fcm_name: name,
            PushOutbox.claimed_until: None,
        }
    ).where(PushOutbox.id == row_id)


async def mark_sent_many(sent: Sequence[tuple[UUID, str | None]], *, now: datetime, is_sqlite: bool) -> None:
    """Several rows SENT (with their FCM message names): one statement on PostgreSQL."""
    if is_sqlite:
        for row_id, name in sent:
            await mark_sent(row_id, name=name, now=now)
        return
    if sent:
        await fetch(
            PushOutbox,
            "UPDATE push_outbox AS o SET status = {}, sent_at = {}, fcm_name = s.name, claimed_until = NULL "
            "FROM unnest({}::uuid[], {}::text[]) AS s(id, name) WHERE o.id = s.id",
            OutboxStatus.SENT.value,
            now,
            [row_id for row_id, _ in sent],
            [name for _, name in sent],
        )


async def mark_done(row_id: UUID, status: OutboxStatus, reason: str | None) -> None:
    await PushOutbox.update(
        {PushOutbox.status: status.value, PushOutbox.reason: reason, PushOutbox.claimed_until: None}
    ).where(PushOutbox.id == row_id)


async def reschedule(row_id: UUID, *, at: datetime, reason: str | None) -> None:
    await PushOutbox.update(
        {PushOutbox.next_attempt_at: at, PushOutbox.reason: reason, PushOutbox.claimed_until: None}
    ).where(PushOutbox.id == row_id)


async def skip_live(pairs: Sequence[tuple[UUID, UUID, str]]) -> int:
    """Rows of (event, user, device id) delivered live over a socket: no push needed."""
    skipped = 0
    for event_id, user_id, device_id in pairs:
        devices = PushDevice.select(PushDevice.id).where(
            (PushDevice.user == user_id) & (PushDevice.device_id == device_id)
        )
        rows = (
            await PushOutbox.update(
                {PushOutbox.status: OutboxStatus.SKIPPED.value, PushOutbox.reason: SkipReason.LIVE.value}
            )
            .where(
                (PushOutbox.event_id == event_id)
                & (PushOutbox.status == OutboxStatus.PENDING.value)
                & PushOutbox.device.is_in(devices)
            )
            .returning(PushOutbox.id)
        )
        skipped += len(rows)
    return skipped


async def next_due_at() -> datetime | None:
    row = (
        await PushOutbox.select(PushOutbox.next_attempt_at)
        .where(PushOutbox.status == OutboxStatus.PENDING.value)
        .order_by(PushOutbox.next_attempt_at)
        .first()
    )
    return row["next_attempt_at"] if row else None


def _badge_counts(user_count: int) -> str:
    """The app icon's count per user (``user_id``, ``badge``): unread secure messages (after the
    user's read marker, over the conversations they have a read state in; a referral conversation
    never opened is not counted) plus the referrals waiting for them: sent to them and not yet
    decided, or back with them for more information. Its arguments: :func:`_badge_arguments`."""
    users = placeholders(user_count)
    return (
        "SELECT counted.user_id, SUM(counted.items) AS badge FROM ("  # noqa: S608 - constants only
        'SELECT conversation_member."user" AS user_id, CASE WHEN conversation.last_sequence > '
        "conversation_member.read_up_to THEN conversation.last_sequence - conversation_member.read_up_to "
        "ELSE 0 END AS items FROM conversation_member "
        "JOIN conversation ON conversation.id = conversation_member.conversation "
        f'WHERE conversation_member."user" IN ({users}) '
        "AND (conversation_member.active = {} OR conversation.kind = {}) "
        'UNION ALL SELECT provider."user" AS user_id, 1 AS items FROM referral '
        "JOIN provider ON provider.id = referral.receiving_provider "
        f'WHERE provider."user" IN ({users}) AND referral.status IN ({placeholders(len(_FOR_RECEIVER))}) '
        'UNION ALL SELECT provider."user" AS user_id, 1 AS items FROM referral '
        "JOIN provider ON provider.id = referral.referring_provider "
        f'WHERE provider."user" IN ({users}) AND referral.status IN ({placeholders(len(_FOR_REFERRER))})'
        ") AS counted GROUP BY counted.user_id"
    )


def _badge_arguments(user_ids: Sequence[UUID]) -> tuple[object, ...]:
    return (*user_ids, True, "REFERRAL", *user_ids, *_FOR_RECEIVER, *user_ids, *_FOR_REFERRER)
