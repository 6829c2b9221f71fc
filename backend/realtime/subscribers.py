"""The stream writer: domain events become stream events for everyone who may see them.

    ReferralChanged / AppointmentChanged / DocumentAdded ──► recipients at the referral's
        version (referrals.access) ──► one stream event each (ids, codes and times; never PHI)
    a party changed ──► users who lost the referral: "access changed" after commit
    ConversationChanged, MessageSent, MessageRecalled/Expired, ReadStateChanged ──► one stream
        event to the conversation's members; TypingChanged ──► ephemeral, never stored
    MembershipChanged, UserDeactivated, SignedOut, SessionsRevoked ──► "access changed"

Every handler runs inside the unit of work (``Phase.IN_TRANSACTION``): the stream rows commit
with their cause, and are published after COMMIT (backend/realtime/events.py).
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from backend.accounts.events import MembershipChanged, UserDeactivated
from backend.auth.events import SessionsRevoked, SignedOut
from backend.automation.events import AutomationStepFired
from backend.core.events import Phase, Subscribers
from backend.messaging import records
from backend.messaging.events import (
    ConversationChanged,
    MessageExpired,
    MessageRecalled,
    MessageSent,
    ReadStateChanged,
    TypingChanged,
)
from backend.realtime.events import TYPING, ChatEventType, EventType, access_changed, emit, emit_ephemeral
from backend.referrals import access
from backend.referrals import records as referral_records
from backend.referrals.events import AppointmentChanged, DocumentAdded, ReferralChanged


def _party_sides(referral: referral_records.Referral) -> tuple[UUID, UUID, UUID | None, UUID]:
    """Who the referral's sides are: a change to any of them may take it away from someone."""
    return (
        referral.referring_provider,
        referral.referring_organization,
        referral.receiving_provider,
        referral.receiving_organization,
    )


def _common(referral: referral_records.Referral, action: str) -> dict[str, Any]:
    return {"version": referral.version, "status": referral.status, "action": action}


async def referral_changed(change: ReferralChanged) -> None:
    before, after = change.before, change.after
    recipients = await access.recipients_at_version(after)
    if before is not None and _party_sides(before) != _party_sides(after):
        removed = set(await access.recipients_at_version(before)) - set(recipients)
        if removed:  # their open subscriptions to the referral (and its chat) re-check at once
            access_changed(sorted(removed, key=str))
    if before is None:
        event_type, extra = EventType.REFERRAL_CREATED, {}
    elif before.status != after.status:
        event_type = EventType.REFERRAL_STATUS_CHANGED
        extra = {"previousStatus": before.status, "reasonCode": after.status_reason}
    else:
        event_type, extra = EventType.REFERRAL_UPDATED, {}
    emit(
        event_type,
        referral_id=after.id,
        payload=_common(after, change.action) | extra,
        recipients=recipients,
        event_id=change.event_id,
    )


async def appointment_changed(change: AppointmentChanged) -> None:
    referral, appointment = change.referral, change.appointment
    emit(
        EventType.APPOINTMENT_CHANGED,
        referral_id=referral.id,
        payload=_common(referral, change.action)
        | {
            "appointmentId": str(appointment.id),
            "appointmentStatus": appointment.status,
            "startsAt": appointment.starts_at.isoformat(),
        },
        recipients=await access.recipients_at_version(referral),
        event_id=change.event_id,
    )


async def document_added(change: DocumentAdded) -> None:
    emit(
        EventType.DOCUMENT_ADDED,
        referral_id=change.referral.id,
        payload=_common(change.referral, change.action)
        | {"documentId": change.document_id, "kind": change.kind},
        recipients=await access.recipients_at_version(change.referral),
        event_id=change.event_id,
    )


def _chat(
    event_type: ChatEventType,
    conversation_id: UUID,
    payload: dict[str, Any],
    members: list[UUID],
    event_id: UUID,
) -> None:
    emit(
        event_type,
        referral_id=None,
        payload={"conversationId": str(conversation_id), **payload},
        recipients=members,
        event_id=event_id,
    )


async def conversation_changed(change: ConversationChanged) -> None:
    _chat(
        ChatEventType.CONVERSATION_CHANGED,
        change.conversation_id,
        {"change": change.change},
        change.members,
        change.event_id,
    )
    if change.access_lost:
        access_changed(change.access_lost)


async def message_sent(sent: MessageSent) -> None:
    message = sent.message
    _chat(
        ChatEventType.MESSAGE_SENT,
        message.conversation,
        {
            "messageId": str(message.id),
            "messageSequence": message.sequence,
            "senderId": str(message.sender),
            "isPriority": message.is_priority,
        },
        sent.members,
        sent.event_id,
    )


async def message_recalled(removed: MessageRecalled) -> None:
    _message_removed(ChatEventType.MESSAGE_RECALLED, removed.message, removed.members, removed.event_id)


async def message_expired(removed: MessageExpired) -> None:
    _message_removed(ChatEventType.MESSAGE_EXPIRED, removed.message, removed.members, removed.event_id)


def _message_removed(
    event_type: ChatEventType, message: records.RemovedMessage, members: list[UUID], event_id: UUID
) -> None:
    _chat(
        event_type,
        message.conversation,
        {"messageId": str(message.id), "messageSequence": message.sequence},
        members,
        event_id,
    )


async def read_state_changed(change: ReadStateChanged) -> None:
    _chat(
        ChatEventType.READ_STATE_CHANGED,
        change.conversation_id,
        {
            "userId": str(change.user_id),
            "deliveredUpTo": change.delivered_up_to,
            "readUpTo": change.read_up_to,
        },
        change.members,
        change.event_id,
    )


async def typing_changed(change: TypingChanged) -> None:
    emit_ephemeral(
        {
            "eventId": str(uuid.uuid4()),
            "type": TYPING,
            "occurredAt": change.occurred_at.isoformat(),
            "referralId": None,
            "conversationId": str(change.conversation_id),
            "userId": str(change.user_id),
            "isTyping": change.is_typing,
        },
        [member for member in change.members if member != change.user_id],
    )


async def automation_step_fired(fired: AutomationStepFired) -> None:
    action = "ESCALATE" if fired.escalation else "REMIND"
    emit(
        EventType.AUTOMATION_STEP_FIRED,
        referral_id=fired.referral.id,
        payload=_common(fired.referral, action)
        | {
            "rule": fired.rule,
            "audience": fired.audience,
            "deadline": fired.deadline.isoformat() if fired.deadline else None,
            "late": fired.late,
        },
        recipients=fired.recipients,
        event_id=fired.event_id,
    )


async def user_access_changed(
    change: MembershipChanged | UserDeactivated | SignedOut | SessionsRevoked,
) -> None:
    access_changed([change.user_id])


def subscribe(subscribers: Subscribers) -> None:
    """Register the stream writer (every handler inside the unit of work)."""
    inside = Phase.IN_TRANSACTION
    subscribers.subscribe(ReferralChanged, referral_changed, phase=inside)
    subscribers.subscribe(AppointmentChanged, appointment_changed, phase=inside)
    subscribers.subscribe(DocumentAdded, document_added, phase=inside)
    subscribers.subscribe(AutomationStepFired, automation_step_fired, phase=inside)
    subscribers.subscribe(ConversationChanged, conversation_changed, phase=inside)
    subscribers.subscribe(MessageSent, message_sent, phase=inside)
    subscribers.subscribe(MessageRecalled, message_recalled, phase=inside)
    subscribers.subscribe(MessageExpired, message_expired, phase=inside)
    subscribers.subscribe(ReadStateChanged, read_state_changed, phase=inside)
    subscribers.subscribe(TypingChanged, typing_changed, phase=inside)
    subscribers.subscribe(MembershipChanged, user_access_changed, phase=inside)
    subscribers.subscribe(UserDeactivated, user_access_changed, phase=inside)
    subscribers.subscribe(SignedOut, user_access_changed, phase=inside)
    subscribers.subscribe(SessionsRevoked, user_access_changed, phase=inside)
