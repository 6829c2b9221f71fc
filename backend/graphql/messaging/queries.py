"""Messaging queries: your conversations, one conversation (or a referral's), messages, attachments.

Ask for the root ``streamPosition`` in the same query and subscribe to ``conversationEvents``
after it: nothing is missed between the load and the live stream.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from uuid import UUID

import strawberry

from backend.graphql.common import PageInfo, page_size, uuid_of
from backend.graphql.context import Info
from backend.graphql.errors import bad_user_input
from backend.graphql.messaging.types import (
    Conversation,
    ConversationConnection,
    ConversationEdge,
    MessageAttachment,
    MessageConnection,
    attachment_from_record,
    conversation_from_view,
    message_connection,
)
from backend.messaging import service
from backend.messaging.errors import MessagingError
from backend.referrals.errors import ReferralError

DEFAULT_MESSAGES = 30


@strawberry.type(description="An attachment with its content.")
class MessageAttachmentContent:
    attachment: MessageAttachment
    content_base64: str


def _sequence_cursor(cursor: str | None, name: str) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 12:
        raise bad_user_input(f"`{name}` is not a cursor from this list.", name)
    return int(cursor)


async def message_page(
    info: Info,
    conversation_id: UUID,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> MessageConnection:
    maximum = info.context.container.settings.graphql_limits.max_page_size
    forward = first is not None or after is not None
    if forward and (last is not None or before is not None):
        raise bad_user_input(
            "Page forward (`first`/`after`) or backward (`last`/`before`), not both.", "first"
        )
    limit = page_size(first if forward else last, maximum=maximum, default=DEFAULT_MESSAGES)
    page = await service.messages(
        info.context.require_actor(),
        info.context.audit,
        conversation_id,
        after=_sequence_cursor(after, "after"),
        before=_sequence_cursor(before, "before"),
        limit=limit,
        newest_first=not forward,
    )
    return message_connection(page)


def _encode_activity(activity_at: datetime, conversation_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{activity_at.isoformat()}|{conversation_id}".encode()).decode()


def _decode_activity(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        at, raw_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return datetime.fromisoformat(at), UUID(raw_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise bad_user_input("`after` is not a cursor from this list.", "after") from error


@strawberry.type
class MessagingQueries:
    @strawberry.field(description="Your conversations (referral, direct, group), most recent activity first.")
    async def conversations(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ConversationConnection:
        limit = page_size(first, maximum=info.context.container.settings.graphql_limits.max_page_size)
        views = await service.list_conversations(
            info.context.require_actor(), info.context.audit, after=_decode_activity(after), limit=limit + 1
        )
        page = views[:limit]
        edges = [
            ConversationEdge(
                cursor=_encode_activity(v.conversation.activity_at, v.conversation.id),
                node=conversation_from_view(v),
            )
            for v in page
        ]
        return ConversationConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(views) > limit, end_cursor=edges[-1].cursor if edges else None
            ),
        )

    @strawberry.field(description="A conversation you are in; null when absent or not yours.")
    async def conversation(self, info: Info, id: strawberry.ID) -> Conversation | None:
        conversation_id = uuid_of(id, "Conversation")
        if conversation_id is None:
            return None
        try:
            view = await service.read_conversation(
                info.context.require_actor(), info.context.audit, conversation_id
            )
        except MessagingError:
            return None
        return conversation_from_view(view)

    @strawberry.field(description="The conversation of a referral you may see; null otherwise.")
    async def referral_conversation(self, info: Info, referral_id: strawberry.ID) -> Conversation | None:
        raw_id = uuid_of(referral_id, "Referral")
        if raw_id is None:
            return None
        try:
            view = await service.referral_conversation(
                info.context.require_actor(), info.context.audit, raw_id
            )
        except ReferralError:
            return None
        return conversation_from_view(view)

    @strawberry.field(
        description="An attachment's content, if you may read its conversation; null otherwise."
    )
    async def message_attachment(self, info: Info, id: strawberry.ID) -> MessageAttachmentContent | None:
        raw_id = uuid_of(id, "MessageAttachment")
        if raw_id is None:
            return None
        try:
            attachment = await service.read_attachment(
                info.context.require_actor(), info.context.audit, raw_id
            )
        except MessagingError:
            return None
        return MessageAttachmentContent(
            attachment=attachment_from_record(attachment),
            content_base64=base64.b64encode(attachment.content).decode(),
        )
