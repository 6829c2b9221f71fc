"""GraphQL types of secure messaging.

Only objects the service returned after its access check are mapped here; members, markers and
sender names come through per-request DataLoaders (one statement per kind per request).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from backend.graphql.common import Node, PageInfo, to_global_id
from backend.graphql.context import Info
from backend.graphql.messaging import dataloaders
from backend.messaging import records
from backend.messaging.codes import ConversationKind as DomainConversationKind
from backend.messaging.codes import MessageState as DomainMessageState
from backend.messaging.codes import ReceiptStatus as DomainReceiptStatus
from backend.messaging.service import ConversationView, MessagePage

ConversationKind = strawberry.enum(DomainConversationKind, description="REFERRAL, DIRECT or GROUP.")
MessageState = strawberry.enum(
    DomainMessageState, description="ACTIVE, or a tombstone: RECALLED by its sender, EXPIRED by retention."
)
ReceiptStatus = strawberry.enum(DomainReceiptStatus)


@strawberry.type(description="A member of a conversation, with how far they have received and read.")
class ConversationMember:
    user_id: strawberry.ID
    display_name: str
    delivered_up_to: int = strawberry.field(description="Messages up to this sequence reached their device.")
    read_up_to: int = strawberry.field(description="Messages up to this sequence were read.")


@strawberry.type(description="Where one recipient is with one message.")
class MessageReceipt:
    user_id: strawberry.ID
    display_name: str
    status: ReceiptStatus  # type: ignore[valid-type]


@strawberry.type(description="An attachment's metadata; fetch its content with `messageAttachment(id:)`.")
class MessageAttachment(Node):
    id: strawberry.ID
    filename: str
    media_type: str
    size_bytes: int
    promoted_document_id: strawberry.ID | None = strawberry.field(
        description="The referral document it was promoted to, if any."
    )


@strawberry.type(
    description="A secure message. Recalled and expired messages keep their place as tombstones."
)
class Message(Node):
    id: strawberry.ID
    conversation_id: strawberry.ID
    sequence: int = strawberry.field(description="Server-assigned order in the conversation, from 1.")
    sender_id: strawberry.ID
    body: str | None = strawberry.field(description="Null for a recalled or expired message.")
    state: MessageState  # type: ignore[valid-type]
    is_priority: bool
    reply_to_id: strawberry.ID | None
    sent_at: datetime
    expires_at: datetime | None = strawberry.field(description="When retention destroys it; null: kept.")
    recalled_at: datetime | None
    attachments: list[MessageAttachment]
    promoted_document_id: strawberry.ID | None = strawberry.field(
        description="The referral document this message was promoted to, if any."
    )
    raw_conversation_id: strawberry.Private[UUID]
    raw_sender_id: strawberry.Private[UUID]

    @strawberry.field
    async def sender_name(self, info: Info) -> str | None:
        name: str | None = await info.context.loader("display_name", dataloaders.display_name_loader).load(
            self.raw_sender_id
        )
        return name

    @strawberry.field(description="Sent / delivered / read, per recipient (every member but the sender).")
    async def receipts(self, info: Info) -> list[MessageReceipt]:
        members = await info.context.loader("conversation_members", dataloaders.members_loader).load(
            self.raw_conversation_id
        )
        states = await info.context.loader("read_states", dataloaders.read_states_loader).load(
            self.raw_conversation_id
        )
        receipts = []
        for user in members:
            if user.id == self.raw_sender_id:
                continue
            state = states.get(user.id)
            status = DomainReceiptStatus.SENT
            if state is not None and state.read_up_to >= self.sequence:
                status = DomainReceiptStatus.READ
            elif state is not None and state.delivered_up_to >= self.sequence:
                status = DomainReceiptStatus.DELIVERED
            receipts.append(
                MessageReceipt(
                    user_id=to_global_id("User", user.id), display_name=user.display_name, status=status
                )
            )
        return receipts


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type(
    description="Messages in conversation order (oldest first) whichever way you page: `last`/`before` "
    "for history, `first`/`after` for what came since."
)
class MessageConnection:
    edges: list[MessageEdge]
    page_info: PageInfo


@strawberry.type(description="A secure conversation: on a referral, or between providers.")
class Conversation(Node):
    id: strawberry.ID
    kind: ConversationKind  # type: ignore[valid-type]
    title: str | None = strawberry.field(description="A group's title; null for referral and direct ones.")
    referral_id: strawberry.ID | None
    retention_seconds: int | None = strawberry.field(
        description="Live messages are destroyed this long after they were sent; null: kept."
    )
    last_sequence: int = strawberry.field(description="The sequence of the latest message (0: none yet).")
    last_message_at: datetime | None
    created_at: datetime
    unread_count: int = strawberry.field(description="Messages from others after your read marker.")
    delivered_up_to: int
    read_up_to: int
    last_message: Message | None
    raw_id: strawberry.Private[UUID]

    @strawberry.field(description="Everyone who may read it now (for a referral: its parties and staff).")
    async def members(self, info: Info) -> list[ConversationMember]:
        members = await info.context.loader("conversation_members", dataloaders.members_loader).load(
            self.raw_id
        )
        states = await info.context.loader("read_states", dataloaders.read_states_loader).load(self.raw_id)
        return [
            ConversationMember(
                user_id=to_global_id("User", user.id),
                display_name=user.display_name,
                delivered_up_to=states[user.id].delivered_up_to if user.id in states else 0,
                read_up_to=states[user.id].read_up_to if user.id in states else 0,
            )
            for user in members
        ]

    @strawberry.field(
        description="History: `last` (default 30) messages `before` a cursor, or the newest. "
        "Catching up: `first` messages `after` a cursor. Oldest first either way."
    )
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        from backend.graphql.messaging.queries import message_page

        return await message_page(info, self.raw_id, first=first, after=after, last=last, before=before)


@strawberry.type
class ConversationEdge:
    cursor: str
    node: Conversation


@strawberry.type(description="Your conversations, most recent activity first.")
class ConversationConnection:
    edges: list[ConversationEdge]
    page_info: PageInfo


def _id_or_none(type_name: str, value: UUID | None) -> strawberry.ID | None:
    return to_global_id(type_name, value) if value is not None else None


def attachment_from_record(attachment: records.MessageAttachment) -> MessageAttachment:
    return MessageAttachment(
        id=to_global_id("MessageAttachment", attachment.id),
        filename=attachment.filename,
        media_type=attachment.media_type,
        size_bytes=attachment.size_bytes,
        promoted_document_id=_id_or_none("Document", attachment.promoted_document),
    )


def message_from_record(message: records.Message) -> Message:
    return Message(
        id=to_global_id("Message", message.id),
        conversation_id=to_global_id("Conversation", message.conversation),
        sequence=message.sequence,
        sender_id=to_global_id("User", message.sender),
        body=message.body,
        state=DomainMessageState(message.state),
        is_priority=message.is_priority,
        reply_to_id=_id_or_none("Message", message.reply_to),
        sent_at=message.sent_at,
        expires_at=message.expires_at,
        recalled_at=message.recalled_at,
        attachments=[attachment_from_record(a) for a in message.attachments],
        promoted_document_id=_id_or_none("Document", message.promoted_document),
        raw_conversation_id=message.conversation,
        raw_sender_id=message.sender,
    )


def conversation_from_view(view: ConversationView) -> Conversation:
    conversation = view.conversation
    return Conversation(
        id=to_global_id("Conversation", conversation.id),
        kind=DomainConversationKind(conversation.kind),
        title=conversation.title or None,
        referral_id=_id_or_none("Referral", conversation.referral),
        retention_seconds=conversation.retention_seconds,
        last_sequence=conversation.last_sequence,
        last_message_at=conversation.last_message_at,
        created_at=conversation.created_at,
        unread_count=view.unread_count,
        delivered_up_to=view.delivered_up_to,
        read_up_to=view.read_up_to,
        last_message=message_from_record(view.last_message) if view.last_message else None,
        raw_id=conversation.id,
    )


def message_connection(page: MessagePage) -> MessageConnection:
    edges = [
        MessageEdge(cursor=str(message.sequence), node=message_from_record(message))
        for message in page.messages
    ]
    return MessageConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_newer,
            end_cursor=edges[-1].cursor if edges else None,
            has_previous_page=page.has_older,
            start_cursor=edges[0].cursor if edges else None,
        ),
    )
