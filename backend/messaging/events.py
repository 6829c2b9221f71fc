"""What the messaging domain says happened to conversations and messages (ids, numbers and
flags, never text); backend/wiring.py decides who reacts (the stream, push)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.core.events import DomainEvent
from backend.messaging import records


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationChanged(DomainEvent):
    """Created, members added or left (``change``: CREATED, MEMBERS, RETENTION); ``members`` may
    see it now, ``access_lost`` no longer may (their open subscriptions re-check)."""

    conversation_id: UUID
    change: str
    members: list[UUID]
    access_lost: list[UUID] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageSent(DomainEvent):
    message: records.Message
    members: list[UUID]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRecalled(DomainEvent):
    message: records.RemovedMessage
    members: list[UUID]


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageExpired(DomainEvent):
    message: records.RemovedMessage
    members: list[UUID]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadStateChanged(DomainEvent):
    conversation_id: UUID
    user_id: UUID
    delivered_up_to: int
    read_up_to: int
    members: list[UUID]


@dataclass(frozen=True, slots=True, kw_only=True)
class TypingChanged(DomainEvent):
    """Ephemeral: delivered to open sockets, never stored or replayed."""

    conversation_id: UUID
    user_id: UUID
    is_typing: bool
    members: list[UUID]
