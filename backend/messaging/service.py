"""Messaging use cases: conversations, sending, receipts, typing, recall, retention, promotion.

Sending follows one path::

    validate the input ─► access (backend/messaging/access.py) ─► reply target still there?
        ─► take the next number (locks the conversation row), seal and insert, move the
        sender's markers (one statement on PostgreSQL), unless the client message id is already
        stored (a retry: nothing written, return that message) ─► event + audit

Every check comes before the first write, so a typed error writes nothing. Nothing commits
here: the caller's unit of work does, and the stream events are published after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from backend.accounts import records as accounts_records
from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.core.events import emit
from backend.core.validation import check_text
from backend.messaging import access, records, repository
from backend.messaging.codes import ConversationKind, MessageState
from backend.messaging.errors import MessagingError, MessagingErrorCode, not_found
from backend.messaging.events import (
    ConversationChanged,
    MessageExpired,
    MessageRecalled,
    MessageSent,
    ReadStateChanged,
    TypingChanged,
)
from backend.messaging.limits import (
    ATTACHMENT_MEDIA_TYPES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    MAX_BODY_CHARS,
    MAX_CLIENT_MESSAGE_ID,
    MAX_FILENAME,
    MAX_GROUP_MEMBERS,
    MAX_RETENTION_SECONDS,
    MAX_TITLE_CHARS,
    MAX_TOTAL_ATTACHMENT_BYTES,
    MIN_CLIENT_MESSAGE_ID,
    RECALL_WINDOW_SECONDS,
)
from backend.messaging.repository import KeyRing, OutgoingMessage
from backend.protocols.codes import DocumentKind
from backend.referrals import access as referral_access
from backend.referrals import repository as referrals
from backend.referrals import service as referral_service
from backend.referrals.errors import ReferralError
from backend.referrals.limits import ALLOWED_MEDIA_TYPES as RECORD_MEDIA_TYPES

EXPIRY_BATCH = 500


@dataclass(frozen=True, slots=True)
class NewAttachment:
    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class NewMessage:
    conversation_id: UUID
    client_message_id: str
    body: str
    is_priority: bool = False
    reply_to_id: UUID | None = None
    attachments: tuple[NewAttachment, ...] = ()


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A send's answer: the stored message, and who may see its conversation as the send read them
    for its event (None when a retry was answered from storage)."""

    message: records.Message
    members: list[UUID] | None = None
    member_names: dict[UUID, str] | None = None


@dataclass(frozen=True, slots=True)
class NewConversation:
    kind: ConversationKind
    member_ids: tuple[UUID, ...]
    title: str = ""
    retention_seconds: int | None = None


@dataclass(slots=True)
class ConversationView:
    """A conversation as the caller sees it: their unread count and markers, the last message."""

    conversation: records.Conversation
    unread_count: int = 0
    delivered_up_to: int = 0
    read_up_to: int = 0
    last_message: records.Message | None = None


@dataclass(slots=True)
class MessagePage:
    messages: list[records.Message]
    has_older: bool
    has_newer: bool


# --- conversations ------------------------------------------------------------------------------


async def referral_conversation(actor: Actor, audit: AuditTrail, referral_id: UUID) -> ConversationView:
    referral, _ = await referral_access.access_referral(actor, referral_id)
    conversation = await repository.ensure_referral_conversation(referral.id, None, utcnow())
    return (await _views(actor, audit, [conversation]))[0]


async def read_conversation(actor: Actor, audit: AuditTrail, conversation_id: UUID) -> ConversationView:
    conversation = await access.access_conversation(actor, conversation_id)
    return (await _views(actor, audit, [conversation]))[0]


async def list_conversations(
    actor: Actor, audit: AuditTrail, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[ConversationView]:
    rows = await repository.conversation_page(
        user_id=actor.user_id,
        visible_referrals=referral_access.visible_filter(actor),
        after=after,
        limit=limit,
    )
    return await _views(actor, audit, rows)


async def _views(
    actor: Actor, audit: AuditTrail, conversations: list[records.Conversation]
) -> list[ConversationView]:
    """Unread counts, markers and last messages for a page of conversations in four statements."""
    if not conversations:
        return []
    now = utcnow()
    ids = [c.id for c in conversations]
    states = await repository.read_states(ids)
    markers = {
        c: states[c].get(actor.user_id)
        or records.ReadState(conversation=c, user=actor.user_id, delivered_up_to=0, read_up_to=0)
        for c in ids
    }
    unread = await repository.unread_counts(actor.user_id, {c: m.read_up_to for c, m in markers.items()}, now)
    keys = KeyRing()
    for conversation in conversations:
        keys.remember(conversation)
    last = await repository.last_messages(keys, conversations, now)
    views = []
    for conversation in conversations:
        conversation_id = conversation.id
        _audit(audit, actor, AuditAction.CONVERSATION_READ, conversation_id)
        last_message = last.get(conversation_id)
        if last_message is not None:
            _audit(audit, actor, AuditAction.MESSAGES_READ, _message_range(conversation_id, [last_message]))
        views.append(
            ConversationView(
                conversation=conversation,
                unread_count=unread.get(conversation_id, 0),
                delivered_up_to=markers[conversation_id].delivered_up_to,
                read_up_to=markers[conversation_id].read_up_to,
                last_message=last_message,
            )
        )
    return views


async def start_conversation(
    actor: Actor, audit: AuditTrail, new: NewConversation, *, min_retention_seconds: int
) -> ConversationView:
    problems = InvalidInput()
    title = new.title.strip()
    others = [u for u in dict.fromkeys(new.member_ids) if u != actor.user_id]
    if new.kind == ConversationKind.REFERRAL:
        problems.add("kind", "INVALID", "Referral conversations are created with their referral.")
    elif new.kind == ConversationKind.DIRECT and len(others) != 1:
        problems.add("memberIds", "INVALID", "A direct conversation has exactly one other member.")
    elif new.kind == ConversationKind.GROUP and not 1 <= len(others) < MAX_GROUP_MEMBERS:
        problems.add("memberIds", "INVALID", f"A group has 2 to {MAX_GROUP_MEMBERS} members.")
    check_text(
        problems, "title", title, max_length=MAX_TITLE_CHARS, required=new.kind == ConversationKind.GROUP
    )
    problems.raise_if_any()
    _check_retention(new.retention_seconds, minimum=min_retention_seconds)
    unreachable = await access.unreachable(actor, others)
    if unreachable:
        raise MessagingError(
            MessagingErrorCode.MEMBER_NOT_REACHABLE,
            "You can only start conversations with colleagues, your referral network, or the other "
            "side of a shared referral.",
            field="memberIds",
        )
    now = utcnow()
    conversation = await repository.insert_conversation(
        kind=new.kind,
        title=title if new.kind == ConversationKind.GROUP else "",
        retention_seconds=new.retention_seconds,
        created_by=actor.user_id,
        now=now,
    )
    members = [actor.user_id, *others]
    await repository.add_members(conversation.id, members, now)
    audit.record(
        AuditAction.CONVERSATION_CREATED,
        actor_user_id=actor.user_id,
        object_type="Conversation",
        object_id=conversation.id,
    )
    await emit(ConversationChanged(conversation_id=conversation.id, change="CREATED", members=members))
    return ConversationView(conversation=conversation)


async def add_members(
    actor: Actor, audit: AuditTrail, conversation_id: UUID, user_ids: Sequence[UUID]
) -> ConversationView:
    """Add people to a group (reachable as for starting one); they see its history."""
    conversation = await access.access_conversation(actor, conversation_id)
    if conversation.kind != ConversationKind.GROUP:
        raise MessagingError(
            MessagingErrorCode.NOT_PERMITTED, "Only groups take new members.", field="conversationId"
        )
    current = set(await repository.active_member_ids(conversation_id))
    joining = [u for u in dict.fromkeys(user_ids) if u not in current]
    if not joining or len(current) + len(joining) > MAX_GROUP_MEMBERS:
        problems = InvalidInput()
        problems.add("memberIds", "INVALID", f"New members, up to {MAX_GROUP_MEMBERS} in all.")
        raise problems
    if await access.unreachable(actor, joining):
        raise MessagingError(
            MessagingErrorCode.MEMBER_NOT_REACHABLE,
            "You can only add colleagues, your referral network, or the other side of a shared referral.",
            field="memberIds",
        )
    await repository.activate_members(conversation_id, joining, utcnow())
    audit.record(
        AuditAction.CONVERSATION_CHANGED,
        actor_user_id=actor.user_id,
        object_type="Conversation",
        object_id=conversation_id,
    )
    await emit(
        ConversationChanged(conversation_id=conversation_id, change="MEMBERS", members=[*current, *joining])
    )
    return (await _views(actor, audit, [conversation]))[0]


async def leave_conversation(actor: Actor, audit: AuditTrail, conversation_id: UUID) -> None:
    """Leave a direct or group conversation: from now on it answers like one that does not exist."""
    conversation = await access.access_conversation(actor, conversation_id)
    if conversation.kind == ConversationKind.REFERRAL:
        raise MessagingError(
            MessagingErrorCode.NOT_PERMITTED,
            "A referral's conversation follows the referral: you are in it while you may see the referral.",
            field="conversationId",
        )
    await repository.deactivate_member(conversation_id, actor.user_id)
    audit.record(
        AuditAction.CONVERSATION_CHANGED,
        actor_user_id=actor.user_id,
        object_type="Conversation",
        object_id=conversation_id,
    )
    remaining = [u for u in await repository.active_member_ids(conversation_id) if u != actor.user_id]
    await emit(
        ConversationChanged(
            conversation_id=conversation_id,
            change="MEMBERS",
            members=remaining,
            access_lost=[actor.user_id],
        )
    )


async def set_retention(
    actor: Actor, audit: AuditTrail, conversation_id: UUID, retention_seconds: int | None, *, minimum: int
) -> ConversationView:
    """Every live message, sent before or after, expires ``retention_seconds`` after it was sent
    (None: kept); those already past it read as expired at once and the expiry job destroys them."""
    _check_retention(retention_seconds, minimum=minimum)
    conversation = await access.access_conversation(actor, conversation_id)
    await repository.set_retention(conversation_id, retention_seconds)
    audit.record(
        AuditAction.CONVERSATION_CHANGED,
        actor_user_id=actor.user_id,
        object_type="Conversation",
        object_id=conversation_id,
    )
    await emit(
        ConversationChanged(
            conversation_id=conversation_id, change="RETENTION", members=await access.members(conversation)
        )
    )
    changed = msgspec.structs.replace(conversation, retention_seconds=retention_seconds)
    return (await _views(actor, audit, [changed]))[0]


def _check_retention(retention_seconds: int | None, *, minimum: int) -> None:
    if retention_seconds is not None and not minimum <= retention_seconds <= MAX_RETENTION_SECONDS:
        problems = InvalidInput()
        problems.add(
            "retentionSeconds", "OUT_OF_RANGE", f"Between {minimum} and {MAX_RETENTION_SECONDS} seconds."
        )
        raise problems


async def members_of(
    conversations: Sequence[records.Conversation],
) -> dict[UUID, list[accounts_records.UserName]]:
    """Each conversation's members as user records (for display: names, no PHI)."""
    by_conversation = await access.members_of(conversations)
    users: dict[UUID, accounts_records.UserName] = {
        row.id: row
        for row in await accounts.users_by_ids(
            sorted({u for m in by_conversation.values() for u in m}, key=str)
        )
    }
    return {c: [users[u] for u in members if u in users] for c, members in by_conversation.items()}


async def receipts_of(conversation_ids: Sequence[UUID]) -> dict[UUID, dict[UUID, records.ReadState]]:
    return await repository.read_states(conversation_ids)


# --- messages -----------------------------------------------------------------------------------


async def messages(
    actor: Actor,
    audit: AuditTrail,
    conversation_id: UUID,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int,
    newest_first: bool,
) -> MessagePage:
    """A page of the conversation: the newest ``limit`` (history, ``newest_first``) or the oldest
    ``limit`` after ``after`` (catching up), always returned in conversation order."""
    conversation = await access.access_conversation(actor, conversation_id)
    keys = KeyRing()
    keys.remember(conversation)
    rows = await repository.message_page(
        keys,
        conversation_id,
        after=after,
        before=before,
        limit=limit + 1,
        newest_first=newest_first,
        now=utcnow(),
    )
    more = len(rows) > limit
    if more:
        rows = rows[1:] if newest_first else rows[:-1]
    if rows:
        _audit(audit, actor, AuditAction.MESSAGES_READ, _message_range(conversation_id, rows))
    first = rows[0].sequence if rows else (after or 0)
    last = rows[-1].sequence if rows else (before or conversation.last_sequence + 1) - 1
    return MessagePage(
        messages=rows,
        has_older=more if newest_first else first > 1,
        has_newer=last < conversation.last_sequence if newest_first or not more else True,
    )


async def read_message(actor: Actor, audit: AuditTrail, message_id: UUID) -> records.Message:
    rows = await repository.message_summaries([message_id])
    if not rows:
        raise not_found()
    conversation = await access.access_conversation(actor, rows[0].conversation)
    keys = KeyRing()
    keys.remember(conversation)
    opened = await repository.messages_by_ids(keys, [message_id], utcnow())
    _audit(audit, actor, AuditAction.MESSAGES_READ, _message_range(conversation.id, opened))
    return opened[0]


async def read_attachment(actor: Actor, audit: AuditTrail, attachment_id: UUID) -> records.AttachmentContent:
    conversation_id = await repository.conversation_of_attachment(attachment_id)
    if conversation_id is None:
        raise not_found()
    conversation = await access.access_conversation(actor, conversation_id)
    keys = KeyRing()
    keys.remember(conversation)
    found = await repository.attachment_with_content(keys, attachment_id)
    if (
        found is None
        or found.state != MessageState.ACTIVE
        or (found.expires_at is not None and found.expires_at <= utcnow())
    ):
        raise not_found()
    audit.record(
        AuditAction.ATTACHMENT_READ,
        actor_user_id=actor.user_id,
        object_type="MessageAttachment",
        object_id=attachment_id,
    )
    return found


def _check_message(new: NewMessage) -> None:
    problems = InvalidInput()
    if not MIN_CLIENT_MESSAGE_ID <= len(new.client_message_id) <= MAX_CLIENT_MESSAGE_ID:
        problems.add(
            "clientMessageId",
            "INVALID",
            f"{MIN_CLIENT_MESSAGE_ID} to {MAX_CLIENT_MESSAGE_ID} characters, unique per message.",
        )
    if len(new.body) > MAX_BODY_CHARS:
        problems.add("body", "TOO_LONG", f"At most {MAX_BODY_CHARS} characters.")
    elif not new.body.strip() and not new.attachments:
        problems.add("body", "REQUIRED", "A message needs text or an attachment.")
    if len(new.attachments) > MAX_ATTACHMENTS_PER_MESSAGE:
        problems.add("attachments", "TOO_MANY", f"At most {MAX_ATTACHMENTS_PER_MESSAGE} attachments.")
    total = 0
    for index, attachment in enumerate(new.attachments):
        prefix = f"attachments[{index}]"
        total += len(attachment.content)
        if attachment.media_type not in ATTACHMENT_MEDIA_TYPES:
            problems.add(
                f"{prefix}.mediaType",
                "UNSUPPORTED_MEDIA_TYPE",
                f"Allowed: {', '.join(sorted(ATTACHMENT_MEDIA_TYPES))}.",
            )
        if not attachment.content:
            problems.add(f"{prefix}.content", "EMPTY", "The attachment is empty.")
        elif len(attachment.content) > MAX_ATTACHMENT_BYTES:
            problems.add(f"{prefix}.content", "TOO_LARGE", f"At most {MAX_ATTACHMENT_BYTES // 1024} KiB.")
        check_text(problems, f"{prefix}.filename", attachment.filename, max_length=MAX_FILENAME)
        if any(c in attachment.filename for c in "/\\\x00"):
            problems.add(f"{prefix}.filename", "INVALID", "A file name, not a path.")
    if total > MAX_TOTAL_ATTACHMENT_BYTES:
        problems.add("attachments", "TOO_LARGE", f"At most {MAX_TOTAL_ATTACHMENT_BYTES // 1024} KiB in all.")
    problems.raise_if_any()


async def send_message(actor: Actor, audit: AuditTrail, new: NewMessage) -> SentMessage:
    _check_message(new)
    conversation = await access.access_conversation(actor, new.conversation_id)
    keys = KeyRing()
    keys.remember(conversation)
    now = utcnow()
    if new.reply_to_id is not None:
        target = await repository.message_summaries([new.reply_to_id])
        if (
            not target
            or target[0].conversation != conversation.id
            or target[0].state != MessageState.ACTIVE
            or (target[0].expires_at is not None and target[0].expires_at <= now)
        ):
            raise MessagingError(
                MessagingErrorCode.MESSAGE_UNAVAILABLE,
                "The message you reply to was recalled or has expired.",
                field="replyToId",
            )
    retention = conversation.retention_seconds
    message = await repository.store_sent_message(
        keys,
        OutgoingMessage(
            conversation_id=conversation.id,
            sender_id=actor.user_id,
            client_message_id=new.client_message_id,
            body=new.body,
            is_priority=new.is_priority,
            reply_to=new.reply_to_id,
            sent_at=now,
            expires_at=now + timedelta(seconds=retention) if retention else None,
            attachments=[(a.filename.strip(), a.media_type, a.content) for a in new.attachments],
        ),
    )
    if message is None:  # a retry (checked under the conversation's lock: no race)
        existing = await repository.message_by_client_id(
            conversation.id, actor.user_id, new.client_message_id
        )
        if existing is None:
            raise RuntimeError("a client message id conflicted with no stored message")
        return SentMessage(_same_send(new, (await repository.messages_by_ids(keys, [existing], now))[0]))
    audit.record(
        AuditAction.MESSAGE_SENT, actor_user_id=actor.user_id, object_type="Message", object_id=message.id
    )
    members = await access.members(conversation)
    await emit(MessageSent(message=message, members=members))
    return SentMessage(message, members, access.member_names(conversation))


def _same_send(new: NewMessage, stored: records.Message) -> records.Message:
    """A retry returns the stored message; a different message under a used id is refused."""
    if stored.state == MessageState.ACTIVE and (
        stored.body,
        stored.is_priority,
        stored.reply_to,
    ) != (
        new.body,
        new.is_priority,
        new.reply_to_id,
    ):
        raise MessagingError(
            MessagingErrorCode.CLIENT_MESSAGE_ID_REUSED,
            "This clientMessageId was used for a different message: use a new one per message.",
            field="clientMessageId",
        )
    return stored


async def mark_read(
    actor: Actor, conversation_id: UUID, *, delivered_up_to: int | None, read_up_to: int | None
) -> ConversationView:
    """Move the caller's delivered/read markers forward (clamped to the last message)."""
    conversation = await access.access_conversation(actor, conversation_id)
    last = conversation.last_sequence
    delivered = min(max(delivered_up_to or 0, 0), last)
    read = min(max(read_up_to or 0, 0), last)
    before = (await repository.read_states([conversation_id]))[conversation_id].get(actor.user_id)
    state = await repository.advance_read_state(
        conversation_id, actor.user_id, delivered_up_to=delivered, read_up_to=read, now=utcnow()
    )
    if before is None or (before.delivered_up_to, before.read_up_to) != (
        state.delivered_up_to,
        state.read_up_to,
    ):
        await emit(
            ReadStateChanged(
                conversation_id=conversation_id,
                user_id=actor.user_id,
                delivered_up_to=state.delivered_up_to,
                read_up_to=state.read_up_to,
                members=await access.members(conversation),
            )
        )
    unread = await repository.unread_counts(actor.user_id, {conversation_id: state.read_up_to}, utcnow())
    return ConversationView(
        conversation=conversation,
        unread_count=unread[conversation_id],
        delivered_up_to=state.delivered_up_to,
        read_up_to=state.read_up_to,
    )


async def set_typing(actor: Actor, conversation_id: UUID, is_typing: bool) -> None:
    conversation = await access.access_conversation(actor, conversation_id)
    await emit(
        TypingChanged(
            conversation_id=conversation_id,
            user_id=actor.user_id,
            is_typing=is_typing,
            members=await access.members(conversation),
        )
    )


async def recall_message(actor: Actor, audit: AuditTrail, message_id: UUID) -> records.Message:
    rows = await repository.message_summaries([message_id])
    if not rows:
        raise not_found()
    message = rows[0]
    conversation = await access.access_conversation(actor, message.conversation)
    now = utcnow()
    if message.sender != actor.user_id:
        raise MessagingError(MessagingErrorCode.NOT_PERMITTED, "Only the sender can recall a message.")
    if message.state != MessageState.ACTIVE or (message.expires_at is not None and message.expires_at <= now):
        raise MessagingError(
            MessagingErrorCode.MESSAGE_UNAVAILABLE, "The message was already recalled or expired."
        )
    if now - message.sent_at > timedelta(seconds=RECALL_WINDOW_SECONDS):
        raise MessagingError(
            MessagingErrorCode.RECALL_WINDOW_PASSED,
            f"Messages can be recalled within {RECALL_WINDOW_SECONDS // 60} minutes of sending.",
        )
    changed = await repository.destroy_content([message_id], MessageState.RECALLED, now)
    audit.record(
        AuditAction.MESSAGE_RECALLED,
        actor_user_id=actor.user_id,
        object_type="Message",
        object_id=message_id,
    )
    if changed:
        await emit(MessageRecalled(message=changed[0], members=await access.members(conversation)))
    keys = KeyRing()
    keys.remember(conversation)
    return (await repository.messages_by_ids(keys, [message_id], now))[0]


async def promote_to_record(
    actor: Actor,
    audit: AuditTrail,
    *,
    message_id: UUID,
    attachment_id: UUID | None,
    idempotency_key: str,
) -> tuple[records.Message, UUID]:
    """Copy a message (or one of its attachments) into its referral's documents, with provenance."""
    rows = await repository.message_summaries([message_id])
    if not rows:
        raise not_found()
    conversation = await access.access_conversation(actor, rows[0].conversation)
    referral_id = conversation.referral
    if conversation.kind != ConversationKind.REFERRAL or referral_id is None:
        raise MessagingError(
            MessagingErrorCode.NOT_A_REFERRAL_CONVERSATION, "Only messages about a referral join its record."
        )
    keys = KeyRing()
    keys.remember(conversation)
    now = utcnow()
    message = (await repository.messages_by_ids(keys, [message_id], now))[0]
    if message.state != MessageState.ACTIVE:
        raise MessagingError(
            MessagingErrorCode.MESSAGE_UNAVAILABLE, "The message was recalled or has expired."
        )
    sender = await accounts.user_by_id(message.sender)
    sender_name = sender.display_name if sender else "unknown"
    if attachment_id is None:
        if message.promoted_document is not None:
            raise MessagingError(
                MessagingErrorCode.ALREADY_PROMOTED, "This message is already in the record."
            )
        content = (
            f"Secure message promoted to the record\nFrom: {sender_name}\n"
            f"Sent: {message.sent_at.isoformat()}\nMessage: {message.id}\n\n{message.body}\n"
        ).encode()
        document = referral_service.NewDocument(
            kind=DocumentKind.CLINICAL_NOTE,
            media_type="text/plain",
            filename=f"secure-message-{message.sequence}.txt",
            content=content,
            source_message_id=message.id,
        )
    else:
        attachment = await repository.attachment_with_content(keys, attachment_id)
        if attachment is None or attachment.message != message.id:
            raise not_found()
        if attachment.promoted_document is not None:
            raise MessagingError(
                MessagingErrorCode.ALREADY_PROMOTED, "This attachment is already in the record."
            )
        if attachment.media_type not in RECORD_MEDIA_TYPES:
            raise MessagingError(
                MessagingErrorCode.PROMOTION_REFUSED,
                f"The record accepts {', '.join(sorted(RECORD_MEDIA_TYPES))}.",
                field="attachmentId",
            )
        document = referral_service.NewDocument(
            kind=DocumentKind.OTHER,
            media_type=attachment.media_type,
            filename=attachment.filename,
            content=attachment.content,
            source_message_id=message.id,
        )
    referral = (await referrals.access_rows([referral_id]))[0]
    change = referral_service.Change(referral.id, referral.version, idempotency_key)
    try:
        await referral_service.add_document(actor, audit, change, document)
    except ReferralError as error:
        raise MessagingError(MessagingErrorCode.PROMOTION_REFUSED, error.message) from None
    document_id = await referrals.latest_document_from_message(referral.id, message.id)
    assert document_id is not None
    await repository.mark_promoted(message.id, attachment_id, document_id)
    audit.record(
        AuditAction.MESSAGE_PROMOTED,
        actor_user_id=actor.user_id,
        object_type="Message",
        object_id=message.id,
    )
    if attachment_id is None:
        message = msgspec.structs.replace(message, promoted_document=document_id)
    return message, document_id


# --- retention ----------------------------------------------------------------------------------


async def expire_due_messages(now: datetime | None = None) -> int:
    """Destroy messages past their retention (a batch; run repeatedly by the expiry job)."""
    now = now or utcnow()
    ids = await repository.due_for_expiry(now, EXPIRY_BATCH)
    changed = await repository.destroy_content(ids, MessageState.EXPIRED, now)
    if changed:
        conversations = await repository.conversations_by_ids(
            sorted({removed.conversation for removed in changed}, key=str)
        )
        members = await access.members_of(conversations)
        for removed in changed:
            await emit(MessageExpired(message=removed, members=members.get(removed.conversation, [])))
    return len(changed)


def _audit(audit: AuditTrail, actor: Actor, action: AuditAction, object_id: UUID | str) -> None:
    audit.record(action, actor_user_id=actor.user_id, object_type="Conversation", object_id=object_id)


def _message_range(conversation_id: UUID, messages: Sequence[records.Message]) -> str:
    return f"{conversation_id}#{messages[0].sequence}-{messages[-1].sequence}"
