"""What the realtime stream hears about conversations: ids, numbers and flags, never text.

Durable events (stored per recipient, replayed on resume) go to everyone who may see the
conversation at that moment; typing indicators are ephemeral (published, never stored).
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from backend.core.clock import utcnow
from backend.push.notify import message_notification, notify
from backend.realtime.events import TYPING, ChatEventType, PendingEvent, emit, emit_ephemeral

Row = dict[str, Any]


def _emit(
    event_type: ChatEventType, conversation_id: UUID, payload: dict[str, Any], members: list[UUID]
) -> PendingEvent:
    return emit(
        event_type,
        referral_id=None,
        payload={"conversationId": str(conversation_id), **payload},
        recipients=members,
    )


def conversation_changed(conversation_id: UUID, change: str, members: list[UUID]) -> None:
    _emit(ChatEventType.CONVERSATION_CHANGED, conversation_id, {"change": change}, members)


async def message_sent(message: Row, members: list[UUID]) -> None:
    """The stream event, and a push to the other members who want one (those with a socket
    that receives the event live are skipped by backend/push/live.py)."""
    event = _emit(
        ChatEventType.MESSAGE_SENT,
        message["conversation"],
        {
            "messageId": str(message["id"]),
            "messageSequence": message["sequence"],
            "senderId": str(message["sender"]),
            "isPriority": message["is_priority"],
        },
        members,
    )
    event.push_users = await notify(
        [member for member in members if member != message["sender"]],
        message_notification(message),
        event_id=event.event_id,
        breaks_quiet_hours=bool(message["is_priority"]),
    )


def message_removed(event_type: ChatEventType, message: Row, members: list[UUID]) -> None:
    _emit(
        event_type,
        message["conversation"],
        {"messageId": str(message["id"]), "messageSequence": message["sequence"]},
        members,
    )


def read_state_changed(conversation_id: UUID, user_id: UUID, state: Row, members: list[UUID]) -> None:
    _emit(
        ChatEventType.READ_STATE_CHANGED,
        conversation_id,
        {
            "userId": str(user_id),
            "deliveredUpTo": state["delivered_up_to"],
            "readUpTo": state["read_up_to"],
        },
        members,
    )


def typing(conversation_id: UUID, user_id: UUID, is_typing: bool, members: list[UUID]) -> None:
    emit_ephemeral(
        {
            "eventId": str(uuid.uuid4()),
            "type": TYPING,
            "occurredAt": utcnow().isoformat(),
            "referralId": None,
            "conversationId": str(conversation_id),
            "userId": str(user_id),
            "isTyping": is_typing,
        },
        [member for member in members if member != user_id],
    )
