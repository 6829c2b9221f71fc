"""Recording stream events inside a unit of work and publishing them after it commits.

    stream writer (subscribers.py) ── emit(type, referral_id, payload, recipients, event_id)
        ──► buffered on the unit of work
    before COMMIT ──► allocate each recipient's next sequence numbers, insert one row per recipient
    after COMMIT  ──► one bus message per event: the event once, plus {recipient: sequence}

A rolled-back unit of work never reaches the after-commit step, so it publishes nothing. The
payload holds ids, codes and times only (no PHI): apps fetch details over the authenticated API.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol
from uuid import UUID

from backend.core.clock import utcnow
from backend.db import UnitOfWork, current_unit_of_work
from backend.realtime import repository

OUTBOX_KEY = "realtime.outbox"


class EventType(StrEnum):
    REFERRAL_CREATED = "REFERRAL_CREATED"
    REFERRAL_STATUS_CHANGED = "REFERRAL_STATUS_CHANGED"
    REFERRAL_UPDATED = "REFERRAL_UPDATED"
    APPOINTMENT_CHANGED = "APPOINTMENT_CHANGED"
    DOCUMENT_ADDED = "DOCUMENT_ADDED"
    AUTOMATION_STEP_FIRED = "AUTOMATION_STEP_FIRED"


class ChatEventType(StrEnum):
    """Events of conversations: their payload carries ``conversationId`` (the discriminator)."""

    CONVERSATION_CHANGED = "CONVERSATION_CHANGED"
    MESSAGE_SENT = "MESSAGE_SENT"
    MESSAGE_RECALLED = "MESSAGE_RECALLED"
    MESSAGE_EXPIRED = "MESSAGE_EXPIRED"
    READ_STATE_CHANGED = "READ_STATE_CHANGED"


EPHEMERAL_SEQUENCE = 0
TYPING = "TYPING"


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One event as it travels on the bus: shared content plus each recipient's sequence."""

    event: dict[str, Any]
    sequences: dict[UUID, int]


class Publisher(Protocol):
    async def publish_events(self, messages: list[StreamMessage]) -> None: ...

    async def publish_access_changed(self, user_ids: list[UUID]) -> None: ...


@dataclass(slots=True)
class PendingEvent:
    type: EventType | ChatEventType
    referral_id: UUID | None
    payload: dict[str, Any]
    recipients: list[UUID]
    event_id: UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=utcnow)
    push_users: list[UUID] = field(default_factory=list)

    def shared(self) -> dict[str, Any]:
        return {
            "eventId": str(self.event_id),
            "type": self.type.value,
            "occurredAt": self.occurred_at.isoformat(),
            "referralId": str(self.referral_id) if self.referral_id else None,
            **self.payload,
            **({"pushUsers": [str(u) for u in self.push_users]} if self.push_users else {}),
        }


class EventOutbox:
    """The events of one unit of work."""

    __slots__ = ("_access_changed", "_ephemeral", "_messages", "_pending", "_push_users", "_uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._pending: list[PendingEvent] = []
        self._messages: list[StreamMessage] = []
        self._access_changed: set[UUID] = set()
        self._ephemeral: list[StreamMessage] = []
        self._push_users: dict[UUID, list[UUID]] = {}
        uow.before_commit(self._write)
        uow.after_commit(self._publish)

    def add(self, event: PendingEvent) -> None:
        if event.recipients:
            self._pending.append(event)

    def access_changed(self, user_ids: list[UUID]) -> None:
        self._access_changed.update(user_ids)

    def note_push_users(self, event_id: UUID, user_ids: list[UUID]) -> None:
        self._push_users[event_id] = user_ids

    def add_ephemeral(self, event: dict[str, Any], recipients: list[UUID]) -> None:
        if recipients:
            self._ephemeral.append(StreamMessage(event, dict.fromkeys(recipients, EPHEMERAL_SEQUENCE)))

    async def _write(self) -> None:
        if not self._pending:
            return
        for event in self._pending:
            event.push_users = self._push_users.get(event.event_id, [])
        increments: dict[UUID, int] = {}
        for event in self._pending:
            for user in event.recipients:
                increments[user] = increments.get(user, 0) + 1
        rows = []
        remaining = dict(increments)
        from_end_by_event: list[dict[UUID, int]] = []
        for event in self._pending:
            from_end = {}
            for user in event.recipients:
                remaining[user] -= 1
                from_end[user] = remaining[user]
                rows.append(
                    {
                        "user": user,
                        "from_end": remaining[user],
                        "event_id": event.event_id,
                        "type": event.type.value,
                        "referral": event.referral_id,
                        "payload": event.payload,
                        "occurred_at": event.occurred_at,
                    }
                )
            from_end_by_event.append(from_end)
        last = await repository.append_events(increments, rows, is_sqlite=self._uow.is_sqlite)
        for event, from_end in zip(self._pending, from_end_by_event, strict=True):
            sequences = {user: last[user] - offset for user, offset in from_end.items()}
            self._messages.append(StreamMessage(event=event.shared(), sequences=sequences))

    async def _publish(self) -> None:
        publisher: Publisher | None = self._uow.publisher
        if publisher is None:
            return
        if self._messages or self._ephemeral:
            await publisher.publish_events(self._messages + self._ephemeral)
        if self._access_changed:
            await publisher.publish_access_changed(sorted(self._access_changed, key=str))


def outbox() -> EventOutbox:
    uow = current_unit_of_work()
    found = uow.extensions.get(OUTBOX_KEY)
    if found is None:
        found = uow.extensions[OUTBOX_KEY] = EventOutbox(uow)
    assert isinstance(found, EventOutbox)
    return found


def emit(
    event_type: EventType | ChatEventType,
    *,
    referral_id: UUID | None,
    payload: dict[str, Any],
    recipients: list[UUID],
    event_id: UUID,
) -> None:
    """Queue an event for these users in the current unit of work; ``event_id`` is the domain
    event's, so the pushes it causes can be matched to it (:func:`note_push_users`)."""
    outbox().add(PendingEvent(event_type, referral_id, payload, sorted(set(recipients), key=str), event_id))


def emit_ephemeral(event: dict[str, Any], recipients: list[UUID]) -> None:
    """After commit, tell these users' open subscriptions; never stored, never replayed (typing)."""
    outbox().add_ephemeral(event, recipients)


def note_push_users(event_id: UUID, user_ids: list[UUID]) -> None:
    """Pushes were queued for these users because of stream event ``event_id``: a socket that
    delivers the event live to one of them reports it (the push is then skipped)."""
    if user_ids:
        outbox().note_push_users(event_id, user_ids)


def access_changed(user_ids: list[UUID]) -> None:
    """After commit, tell these users' open sockets to re-check who they are and what they see."""
    outbox().access_changed(user_ids)


def replayed(row: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A stored row as (sequence, shared event content), the same shape the bus carries."""
    payload = row["payload"]
    payload = json.loads(payload) if isinstance(payload, str) else payload
    event = {
        "eventId": str(row["event_id"]),
        "type": row["type"],
        "occurredAt": row["occurred_at"].isoformat(),
        "referralId": str(row["referral"]) if row["referral"] else None,
        **payload,
    }
    return int(row["sequence"]), event
