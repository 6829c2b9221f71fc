"""Every messaging query, and the only place message text and attachments are sealed or opened.

    conversation ── data key (random), wrapped by the current KEK, AAD "dek|conversation|<id>"
    title        ── field "title"
    message body ── field "message:<message id>:<sender id>:body"
    attachment   ── fields "attachment:<attachment id>:<message id>:<sender id>:{filename,content}"

The field name feeds both the HKDF info (a key per message) and the associated data, so a
ciphertext copied to another message, conversation or sender fails to decrypt. Recall and
expiry overwrite the ciphertext (the body becomes empty, attachment content NULL): the text is
then gone, not merely hidden.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from piccolo.query.functions.aggregate import Count

from backend.crypto import envelope
from backend.crypto.keys import key_encryption_keys
from backend.crypto.rotation import WrappedKeys
from backend.db import current_unit_of_work, fetch, placeholders, select_columns
from backend.messaging import records
from backend.messaging.codes import ConversationKind, MessageState
from backend.messaging.tables import Conversation, ConversationMember, Message, MessageAttachment

SCOPE = "conversation"
WRAPPED_KEYS = WrappedKeys(
    Conversation, Conversation.id, Conversation.wrapped_key, scope=SCOPE
)  # rotated by `keys rotate`
ATTACHMENT_COLUMNS = (
    MessageAttachment.id,
    MessageAttachment.message,
    MessageAttachment.conversation,
    MessageAttachment.filename,
    MessageAttachment.media_type,
    MessageAttachment.size_bytes,
    MessageAttachment.promoted_document,
)


# --- keys and sealing ---------------------------------------------------------------------------


def _data_key(conversation_id: UUID, wrapped_key: str) -> bytes:
    return envelope.unwrap_data_key(
        key_encryption_keys(), wrapped_key, scope=SCOPE, record_id=str(conversation_id)
    )


def _body_field(message_id: UUID, sender_id: UUID) -> str:
    return f"message:{message_id}:{sender_id}:body"


def _attachment_field(attachment_id: UUID, message_id: UUID, sender_id: UUID, part: str) -> str:
    return f"attachment:{attachment_id}:{message_id}:{sender_id}:{part}"


def _seal(data_key: bytes, conversation_id: UUID, field: str, text: str) -> str:
    return envelope.encrypt_field(data_key, text, scope=SCOPE, record_id=str(conversation_id), field=field)


def _open(data_key: bytes, conversation_id: UUID, field: str, stored: str) -> str:
    return envelope.decrypt_field(data_key, stored, scope=SCOPE, record_id=str(conversation_id), field=field)


class KeyRing:
    """Unwrapped conversation data keys, for one call (never kept beyond it)."""

    __slots__ = ("_keys",)

    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}

    async def key_of(self, conversation_id: UUID) -> bytes:
        found = self._keys.get(conversation_id)
        if found is None:
            row = (
                await Conversation.select(Conversation.id, Conversation.wrapped_key)
                .where(Conversation.id == conversation_id)
                .first()
            )
            if row is None:
                raise LookupError(conversation_id)
            found = self._keys[conversation_id] = _data_key(row["id"], row["wrapped_key"])
        return found

    def remember(self, conversation: records.Conversation) -> None:
        if conversation.id not in self._keys:
            self._keys[conversation.id] = _data_key(conversation.id, conversation.wrapped_key)


# --- conversations ------------------------------------------------------------------------------


async def insert_conversation(
    *,
    kind: ConversationKind,
    title: str,
    retention_seconds: int | None,
    created_by: UUID | None,
    now: datetime,
    referral_id: UUID | None = None,
) -> records.Conversation:
    conversation_id = uuid.uuid4()
    data_key = envelope.new_data_key()
    await Conversation(
        id=conversation_id,
        kind=kind.value,
        referral=referral_id,
        title=_seal(data_key, conversation_id, "title", title) if title else "",
        wrapped_key=envelope.wrap_data_key(
            key_encryption_keys(), data_key, scope=SCOPE, record_id=str(conversation_id)
        ),
        retention_seconds=retention_seconds,
        created_by=created_by,
        created_at=now,
        activity_at=now,
    ).save()
    row = await conversation_by_id(conversation_id)
    assert row is not None
    return row


async def ensure_referral_conversation(
    referral_id: UUID, retention_seconds: int | None, now: datetime
) -> records.Conversation:
    """The referral's conversation, created if it has none yet (one per referral: unique column)."""
    found = await conversation_of_referral(referral_id)
    if found is not None:
        return found
    conversation_id = uuid.uuid4()
    wrapped = envelope.wrap_data_key(
        key_encryption_keys(), envelope.new_data_key(), scope=SCOPE, record_id=str(conversation_id)
    )
    await fetch(
        Conversation,
        "INSERT INTO conversation (id, kind, referral, title, wrapped_key, retention_seconds, "
        "last_sequence, activity_at, created_at) VALUES ({}, {}, {}, '', {}, {}, 0, {}, {}) "
        "ON CONFLICT (referral) DO NOTHING",
        conversation_id,
        ConversationKind.REFERRAL.value,
        referral_id,
        wrapped,
        retention_seconds,
        now,
        now,
    )
    found = await conversation_of_referral(referral_id)
    assert found is not None
    return found


def _opened_conversation(
    row: dict[str, Any], active_members: dict[UUID, str] | None = None
) -> records.Conversation:
    """The record of a full ``conversation`` row (which it may change: the title is opened in it)."""
    if row["title"]:
        row["title"] = _open(_data_key(row["id"], row["wrapped_key"]), row["id"], "title", row["title"])
    return records.Conversation(**row, active_members=active_members)


async def conversation_by_id(conversation_id: UUID) -> records.Conversation | None:
    row: dict[str, Any] | None = await Conversation.select().where(Conversation.id == conversation_id).first()
    return _opened_conversation(row) if row else None


_CONVERSATION_COLUMNS = select_columns(Conversation)


async def conversation_with_members(conversation_id: UUID) -> records.Conversation | None:
    """``conversation_by_id`` with its active members and their display names
    (``active_members``), in one statement (every access check; a send's answer names them)."""
    rows = await fetch(
        Conversation,
        f'SELECT {_CONVERSATION_COLUMNS}, conversation_member."user" AS active_member, '  # noqa: S608 - constants
        "app_user.display_name AS active_member_name "
        "FROM conversation LEFT JOIN conversation_member "
        "ON conversation_member.conversation = conversation.id AND conversation_member.active = {} "
        'LEFT JOIN app_user ON app_user.id = conversation_member."user" '
        "WHERE conversation.id = {}",
        True,
        conversation_id,
    )
    if not rows:
        return None
    members = {}
    for row in rows:
        member, name = row.pop("active_member"), row.pop("active_member_name")
        if member is not None:
            members[member] = name
    return _opened_conversation(rows[0], members)


async def conversation_of_referral(referral_id: UUID) -> records.Conversation | None:
    row: dict[str, Any] | None = (
        await Conversation.select().where(Conversation.referral == referral_id).first()
    )
    return _opened_conversation(row) if row else None


async def conversations_by_ids(ids: Sequence[UUID]) -> list[records.Conversation]:
    if not ids:
        return []
    rows: list[dict[str, Any]] = await Conversation.select().where(Conversation.id.is_in(list(ids)))
    return [_opened_conversation(row) for row in rows]


async def conversation_page(
    *, user_id: UUID, visible_referrals: Any, after: tuple[datetime, UUID] | None, limit: int
) -> list[records.Conversation]:
    """The caller's conversations, most recent activity first (keyset on activity_at, id)."""
    from backend.referrals.tables import Referral

    member_of = ConversationMember.select(ConversationMember.conversation).where(
        (ConversationMember.user == user_id) & (ConversationMember.active == True)  # noqa: E712
    )
    mine: Any = Conversation.id.is_in(member_of) & (Conversation.kind != ConversationKind.REFERRAL.value)
    if visible_referrals is not None:
        mine = mine | Conversation.referral.is_in(Referral.select(Referral.id).where(visible_referrals))
    query = Conversation.select().where(mine)
    if after is not None:
        activity_at, conversation_id = after
        query = query.where(
            (Conversation.activity_at < activity_at)
            | ((Conversation.activity_at == activity_at) & (Conversation.id < conversation_id))
        )
    rows: list[dict[str, Any]] = await query.order_by(
        Conversation.activity_at, Conversation.id, ascending=False
    ).limit(limit)
    return [_opened_conversation(row) for row in rows]


_LIVE_MESSAGES_OF = "WHERE conversation = {} AND state = {}"  # a conversation's active messages


async def set_retention(conversation_id: UUID, retention_seconds: int | None) -> None:
    """The conversation's retention, applied to its live messages too: each expires
    ``retention_seconds`` after it was sent (``None``: kept). PostgreSQL computes the new expiry
    in one statement; SQLite (timestamps stored as text, in process) row by row."""
    await Conversation.update({Conversation.retention_seconds: retention_seconds}).where(
        Conversation.id == conversation_id
    )
    live = (conversation_id, MessageState.ACTIVE.value)
    if retention_seconds is None:
        await fetch(Message, "UPDATE message SET expires_at = NULL " + _LIVE_MESSAGES_OF, *live)  # noqa: S608
    elif not current_unit_of_work().is_sqlite:
        retention = timedelta(seconds=retention_seconds)
        await fetch(
            Message,
            "UPDATE message SET expires_at = sent_at + {}::interval " + _LIVE_MESSAGES_OF,  # noqa: S608
            retention,
            *live,
        )
    else:
        live_messages = "SELECT id, sent_at FROM message " + _LIVE_MESSAGES_OF  # noqa: S608
        for row in await fetch(Message, live_messages, *live):
            expires_at = row["sent_at"] + timedelta(seconds=retention_seconds)
            await fetch(Message, "UPDATE message SET expires_at = {} WHERE id = {}", expires_at, row["id"])


async def next_sequence(conversation_id: UUID, now: datetime) -> int:
    """Take the conversation's next message number (locks its row until the transaction ends)."""
    rows = await fetch(
        Conversation,
        "UPDATE conversation SET last_sequence = last_sequence + 1, last_message_at = {}, activity_at = {} "
        "WHERE id = {} RETURNING last_sequence",
        now,
        now,
        conversation_id,
    )
    return int(rows[0]["last_sequence"])


async def release_sequence(conversation_id: UUID, sequence: int) -> None:
    """Give back a number taken by a send that turned out to be a duplicate (lock still held)."""
    await Conversation.update({Conversation.last_sequence: sequence - 1}).where(
        (Conversation.id == conversation_id) & (Conversation.last_sequence == sequence)
    )


# --- members and read state ---------------------------------------------------------------------


async def add_members(conversation_id: UUID, user_ids: Sequence[UUID], now: datetime) -> None:
    if user_ids:
        await ConversationMember.insert(
            *(ConversationMember(conversation=conversation_id, user=user, joined_at=now) for user in user_ids)
        )


async def activate_members(conversation_id: UUID, user_ids: Sequence[UUID], now: datetime) -> None:
    """Add members, or bring back ones who left (their read markers kept)."""
    for user_id in user_ids:
        await fetch(
            ConversationMember,
            'INSERT INTO conversation_member (conversation, "user", active, delivered_up_to, read_up_to, '
            "joined_at) VALUES ({}, {}, {}, 0, 0, {}) "
            'ON CONFLICT (conversation, "user") DO UPDATE SET active = excluded.active',
            conversation_id,
            user_id,
            True,
            now,
        )


async def deactivate_member(conversation_id: UUID, user_id: UUID) -> None:
    await ConversationMember.update({ConversationMember.active: False}).where(
        (ConversationMember.conversation == conversation_id) & (ConversationMember.user == user_id)
    )


async def active_member_ids(conversation_id: UUID) -> list[UUID]:
    return (await active_members_of([conversation_id]))[conversation_id]


async def active_members_of(conversation_ids: Sequence[UUID]) -> dict[UUID, list[UUID]]:
    found: dict[UUID, list[UUID]] = {c: [] for c in conversation_ids}
    if conversation_ids:
        rows = await fetch(
            ConversationMember,
            'SELECT conversation, "user" FROM conversation_member '  # noqa: S608 - placeholders only
            f"WHERE conversation IN ({placeholders(len(conversation_ids))}) AND active = {{}}",
            *conversation_ids,
            True,
        )
        for row in rows:
            found[row["conversation"]].append(row["user"])
    return found


async def read_states(conversation_ids: Sequence[UUID]) -> dict[UUID, dict[UUID, records.ReadState]]:
    """Per conversation, each user's read state (users who never marked anything are absent)."""
    found: dict[UUID, dict[UUID, records.ReadState]] = {c: {} for c in conversation_ids}
    if conversation_ids:
        rows = await fetch(
            ConversationMember,
            'SELECT conversation, "user", delivered_up_to, read_up_to FROM conversation_member '  # noqa: S608
            f"WHERE conversation IN ({placeholders(len(conversation_ids))})",
            *conversation_ids,
        )
        for row in rows:
            found[row["conversation"]][row["user"]] = records.ReadState(**row)
    return found


async def advance_read_state(
    conversation_id: UUID, user_id: UUID, *, delivered_up_to: int, read_up_to: int, now: datetime
) -> records.ReadState:
    """Move a member's markers forward (never back); creates the row on first use."""
    rows = await fetch(
        ConversationMember,
        'INSERT INTO conversation_member (conversation, "user", active, delivered_up_to, read_up_to, '
        "joined_at) VALUES ({}, {}, {}, {}, {}, {}) "
        'ON CONFLICT (conversation, "user") DO UPDATE SET '
        "delivered_up_to = CASE WHEN excluded.delivered_up_to > conversation_member.delivered_up_to "
        "THEN excluded.delivered_up_to ELSE conversation_member.delivered_up_to END, "
        "read_up_to = CASE WHEN excluded.read_up_to > conversation_member.read_up_to "
        "THEN excluded.read_up_to ELSE conversation_member.read_up_to END "
        "RETURNING delivered_up_to, read_up_to",
        conversation_id,
        user_id,
        False,
        max(delivered_up_to, read_up_to),
        read_up_to,
        now,
    )
    return records.ReadState(
        conversation=conversation_id,
        user=user_id,
        delivered_up_to=int(rows[0]["delivered_up_to"]),
        read_up_to=int(rows[0]["read_up_to"]),
    )


async def unread_counts(user_id: UUID, read_up_to: dict[UUID, int], now: datetime) -> dict[UUID, int]:
    """Per conversation: live messages from others after the user's read marker."""
    if not read_up_to:
        return {}
    after_marker: Any = None
    for conversation_id, marker in read_up_to.items():
        clause = (Message.conversation == conversation_id) & (Message.sequence > marker)
        after_marker = clause if after_marker is None else after_marker | clause
    rows = await (
        Message.select(Message.conversation, Count())
        .where(
            after_marker
            & (Message.sender != user_id)
            & (Message.state == MessageState.ACTIVE.value)
            & (Message.expires_at.is_null() | (Message.expires_at > now))
        )
        .group_by(Message.conversation)
    )
    counts = dict.fromkeys(read_up_to, 0)
    counts.update({row["conversation"]: int(row["count"]) for row in rows})
    return counts


# --- messages -----------------------------------------------------------------------------------


async def message_by_client_id(conversation_id: UUID, sender_id: UUID, client_message_id: str) -> UUID | None:
    """The id of the message the sender stored under this client message id, if any."""
    rows = await fetch(
        Message,
        "SELECT id FROM message WHERE conversation = {} AND sender = {} AND client_message_id = {} LIMIT 1",
        conversation_id,
        sender_id,
        client_message_id,
    )
    found: UUID | None = rows[0]["id"] if rows else None
    return found


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a send stores, before the message has its id and number."""

    conversation_id: UUID
    sender_id: UUID
    client_message_id: str
    body: str
    is_priority: bool
    reply_to: UUID | None
    sent_at: datetime
    expires_at: datetime | None
    attachments: Sequence[tuple[str, str, bytes]] = ()


async def store_sent_message(keys: KeyRing, outgoing: OutgoingMessage) -> records.Message | None:
    """A send's writes: take the conversation's next number (its row stays locked until the
    transaction ends), seal and insert the message and its attachments, and move the sender's
    markers to it. Returns the message as :func:`insert_message` does; ``None`` when the sender
    already stored a message under this client message id (nothing written, number given back).

    PostgreSQL numbers, inserts and moves the markers in one statement (three data-modifying
    CTEs: a round trip costs more than the rest of the statement); SQLite runs in process and
    takes the steps one by one."""
    conversation_id, sender_id, sent_at = outgoing.conversation_id, outgoing.sender_id, outgoing.sent_at
    if current_unit_of_work().is_sqlite:
        sequence = await next_sequence(conversation_id, sent_at)
        message = await insert_message(keys, outgoing, sequence)
        if message is None:
            await release_sequence(conversation_id, sequence)
            return None
        await advance_read_state(
            conversation_id, sender_id, delivered_up_to=sequence, read_up_to=sequence, now=sent_at
        )
        return message
    data_key = await keys.key_of(conversation_id)
    message_id = uuid.uuid4()
    rows = await fetch(
        Message,
        "WITH next AS (UPDATE conversation SET last_sequence = last_sequence + 1, last_message_at = {}, "
        "activity_at = {} WHERE id = {} RETURNING last_sequence), "
        'stored AS (INSERT INTO message (id, conversation, "sequence", sender, client_message_id, body, '
        "is_priority, reply_to, state, sent_at, expires_at) "
        "SELECT {}::uuid, {}::uuid, next.last_sequence, {}::uuid, {}::varchar, {}::text, {}::boolean, "
        "{}::uuid, {}::varchar, {}::timestamptz, {}::timestamptz FROM next "
        'ON CONFLICT (conversation, sender, client_message_id) DO NOTHING RETURNING "sequence"), '
        'markers AS (INSERT INTO conversation_member (conversation, "user", active, delivered_up_to, '
        'read_up_to, joined_at) SELECT {}::uuid, {}::uuid, FALSE, stored."sequence", stored."sequence", '
        '{}::timestamptz FROM stored ON CONFLICT (conversation, "user") DO UPDATE SET '
        "delivered_up_to = GREATEST(conversation_member.delivered_up_to, excluded.delivered_up_to), "
        "read_up_to = GREATEST(conversation_member.read_up_to, excluded.read_up_to)) "
        "SELECT next.last_sequence, EXISTS (SELECT 1 FROM stored) AS stored FROM next",
        sent_at,
        sent_at,
        conversation_id,
        message_id,
        conversation_id,
        sender_id,
        outgoing.client_message_id,
        _seal(data_key, conversation_id, _body_field(message_id, sender_id), outgoing.body),
        outgoing.is_priority,
        outgoing.reply_to,
        MessageState.ACTIVE.value,
        sent_at,
        outgoing.expires_at,
        conversation_id,
        sender_id,
        sent_at,
    )
    sequence = int(rows[0]["last_sequence"])
    if not rows[0]["stored"]:
        await release_sequence(conversation_id, sequence)
        return None
    return await _stored_message(data_key, outgoing, message_id, sequence)


async def insert_message(keys: KeyRing, outgoing: OutgoingMessage, sequence: int) -> records.Message | None:
    """Seal and insert under a number already taken; returns the message as ``messages_by_ids``
    would read it back (opened, with its attachments in id order), built from what was written
    instead of read again. ``None`` when the sender already stored a message under this client
    message id (nothing is written)."""
    conversation_id, sender_id = outgoing.conversation_id, outgoing.sender_id
    data_key = await keys.key_of(conversation_id)
    message_id = uuid.uuid4()
    inserted = await fetch(
        Message,
        'INSERT INTO message (id, conversation, "sequence", sender, client_message_id, body, is_priority, '
        "reply_to, state, sent_at, expires_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (conversation, sender, client_message_id) DO NOTHING RETURNING id",
        message_id,
        conversation_id,
        sequence,
        sender_id,
        outgoing.client_message_id,
        _seal(data_key, conversation_id, _body_field(message_id, sender_id), outgoing.body),
        outgoing.is_priority,
        outgoing.reply_to,
        MessageState.ACTIVE.value,
        outgoing.sent_at,
        outgoing.expires_at,
    )
    if not inserted:
        return None
    return await _stored_message(data_key, outgoing, message_id, sequence)


async def _stored_message(
    data_key: bytes, outgoing: OutgoingMessage, message_id: UUID, sequence: int
) -> records.Message:
    """Seal and insert the attachments of a message just inserted; the message, opened."""
    conversation_id, sender_id = outgoing.conversation_id, outgoing.sender_id
    opened_attachments: list[records.MessageAttachment] = []
    if outgoing.attachments:
        rows = []
        for filename, media_type, content in outgoing.attachments:
            attachment_id = uuid.uuid4()
            opened_attachments.append(
                records.MessageAttachment(
                    id=attachment_id,
                    message=message_id,
                    conversation=conversation_id,
                    filename=filename,
                    media_type=media_type,
                    size_bytes=len(content),
                    promoted_document=None,
                    sender=sender_id,
                )
            )
            rows.append(
                MessageAttachment(
                    id=attachment_id,
                    message=message_id,
                    conversation=conversation_id,
                    filename=_seal(
                        data_key,
                        conversation_id,
                        _attachment_field(attachment_id, message_id, sender_id, "filename"),
                        filename,
                    ),
                    media_type=media_type,
                    size_bytes=len(content),
                    content=envelope.encrypt_bytes(
                        data_key,
                        content,
                        scope=SCOPE,
                        record_id=str(conversation_id),
                        field=_attachment_field(attachment_id, message_id, sender_id, "content"),
                    ),
                )
            )
        await MessageAttachment.insert(*rows)
        opened_attachments.sort(key=lambda attachment: attachment.id)
    return records.Message(
        id=message_id,
        conversation=conversation_id,
        sequence=sequence,
        sender=sender_id,
        client_message_id=outgoing.client_message_id,
        body=outgoing.body,
        is_priority=outgoing.is_priority,
        reply_to=outgoing.reply_to,
        state=MessageState.ACTIVE.value,
        sent_at=outgoing.sent_at,
        expires_at=outgoing.expires_at,
        recalled_at=None,
        promoted_document=None,
        attachments=opened_attachments,
    )


async def _opened_messages(keys: KeyRing, rows: list[dict[str, Any]], now: datetime) -> list[records.Message]:
    """The records of full ``message`` rows (changed in place: state, body), bodies and attachment
    names opened; expired or recalled ones carry no text."""
    if not rows:
        return []
    opened = []
    states = {}
    for row in rows:
        state = row["state"]
        if state == MessageState.ACTIVE and row["expires_at"] is not None and row["expires_at"] <= now:
            state = MessageState.EXPIRED.value
        states[row["id"]] = state
    attachments = await _attachments_of(
        keys, [m for m, state in states.items() if state == MessageState.ACTIVE]
    )
    for row in rows:
        state = states[row["id"]]
        body = None
        if state == MessageState.ACTIVE:
            data_key = await keys.key_of(row["conversation"])
            body = _open(data_key, row["conversation"], _body_field(row["id"], row["sender"]), row["body"])
        row["state"], row["body"] = state, body
        opened.append(
            records.Message(
                **row, attachments=attachments.get(row["id"], []) if state == MessageState.ACTIVE else []
            )
        )
    return opened


async def _attachments_of(
    keys: KeyRing, message_ids: list[UUID]
) -> dict[UUID, list[records.MessageAttachment]]:
    if not message_ids:
        return {}
    rows = await (
        MessageAttachment.select(*ATTACHMENT_COLUMNS, MessageAttachment.message.sender.as_alias("sender"))
        .where(MessageAttachment.message.is_in(message_ids))
        .order_by(MessageAttachment.id)
    )
    grouped: dict[UUID, list[records.MessageAttachment]] = {}
    for row in rows:
        data_key = await keys.key_of(row["conversation"])
        field = _attachment_field(row["id"], row["message"], row["sender"], "filename")
        row["filename"] = _open(data_key, row["conversation"], field, row["filename"])
        grouped.setdefault(row["message"], []).append(records.MessageAttachment(**row))
    return grouped


async def messages_by_ids(keys: KeyRing, ids: Sequence[UUID], now: datetime) -> list[records.Message]:
    if not ids:
        return []
    rows: list[dict[str, Any]] = (
        await Message.select().where(Message.id.is_in(list(ids))).order_by(Message.sequence)
    )
    return await _opened_messages(keys, rows, now)


async def message_summaries(ids: Sequence[UUID]) -> list[records.MessageSummary]:
    """The messages without their text (nothing opened): for checks that need no text."""
    if not ids:
        return []
    rows: list[dict[str, Any]] = await Message.select(
        Message.id,
        Message.conversation,
        Message.sequence,
        Message.sender,
        Message.state,
        Message.sent_at,
        Message.expires_at,
        Message.promoted_document,
    ).where(Message.id.is_in(list(ids)))
    return [records.MessageSummary(**row) for row in rows]


async def message_page(
    keys: KeyRing,
    conversation_id: UUID,
    *,
    after: int | None,
    before: int | None,
    limit: int,
    newest_first: bool,
    now: datetime,
) -> list[records.Message]:
    """Up to ``limit`` messages between the cursors, oldest first in the result either way."""
    query = Message.select().where(Message.conversation == conversation_id)
    if after is not None:
        query = query.where(Message.sequence > after)
    if before is not None:
        query = query.where(Message.sequence < before)
    rows: list[dict[str, Any]] = await query.order_by(Message.sequence, ascending=not newest_first).limit(
        limit
    )
    if newest_first:
        rows.reverse()
    return await _opened_messages(keys, rows, now)


async def last_messages(
    keys: KeyRing, conversations: Sequence[records.Conversation], now: datetime
) -> dict[UUID, records.Message]:
    clause: Any = None
    for conversation in conversations:
        if conversation.last_sequence:
            one = (Message.conversation == conversation.id) & (Message.sequence == conversation.last_sequence)
            clause = one if clause is None else clause | one
    if clause is None:
        return {}
    rows: list[dict[str, Any]] = await Message.select().where(clause)
    return {message.conversation: message for message in await _opened_messages(keys, rows, now)}


async def conversation_of_attachment(attachment_id: UUID) -> UUID | None:
    row = (
        await MessageAttachment.select(MessageAttachment.conversation)
        .where(MessageAttachment.id == attachment_id)
        .first()
    )
    return row["conversation"] if row else None


async def attachment_with_content(keys: KeyRing, attachment_id: UUID) -> records.AttachmentContent | None:
    row: dict[str, Any] | None = (
        await MessageAttachment.select(
            *ATTACHMENT_COLUMNS,
            MessageAttachment.content,
            MessageAttachment.message.sender.as_alias("sender"),
            MessageAttachment.message.state.as_alias("state"),
            MessageAttachment.message.expires_at.as_alias("expires_at"),
        )
        .where(MessageAttachment.id == attachment_id)
        .first()
    )
    if row is None or row["content"] is None:
        return None
    data_key = await keys.key_of(row["conversation"])
    record_id = str(row["conversation"])
    row["filename"] = _open(
        data_key,
        row["conversation"],
        _attachment_field(row["id"], row["message"], row["sender"], "filename"),
        row["filename"],
    )
    row["content"] = envelope.decrypt_bytes(
        data_key,
        bytes(row["content"]),
        scope=SCOPE,
        record_id=record_id,
        field=_attachment_field(row["id"], row["message"], row["sender"], "content"),
    )
    return records.AttachmentContent(**row)


async def destroy_content(
    message_ids: Sequence[UUID], state: MessageState, now: datetime
) -> list[records.RemovedMessage]:
    """Recall or expire: the ciphertext is overwritten. Returns the rows that changed state."""
    if not message_ids:
        return []
    values: dict[Any, Any] = {Message.state: state.value, Message.body: ""}
    if state == MessageState.RECALLED:
        values[Message.recalled_at] = now
    rows: list[dict[str, Any]] = await (
        Message.update(values)
        .where(Message.id.is_in(list(message_ids)) & (Message.state == MessageState.ACTIVE.value))
        .returning(Message.id, Message.conversation, Message.sequence)
    )
    changed = [row["id"] for row in rows]
    if changed:
        await MessageAttachment.update(
            {MessageAttachment.content: None, MessageAttachment.filename: ""}
        ).where(MessageAttachment.message.is_in(changed))
    return [records.RemovedMessage(**row) for row in rows]


async def due_for_expiry(now: datetime, limit: int) -> list[UUID]:
    rows = await (
        Message.select(Message.id)
        .where((Message.state == MessageState.ACTIVE.value) & (Message.expires_at <= now))
        .order_by(Message.expires_at)
        .limit(limit)
    )
    return [row["id"] for row in rows]


async def mark_promoted(message_id: UUID, attachment_id: UUID | None, document_id: UUID) -> None:
    if attachment_id is None:
        await Message.update({Message.promoted_document: document_id}).where(Message.id == message_id)
    else:
        await MessageAttachment.update({MessageAttachment.promoted_document: document_id}).where(
            MessageAttachment.id == attachment_id
        )
