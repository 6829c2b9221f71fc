"""Messaging mutations: parse ids and uploads, call one service function, map the outcome.

Each answers a union: the changed conversation or message, a ``MessagingError`` with a code, or
an ``InputError`` per field. A refused call writes nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar
from uuid import UUID

import strawberry

from backend.core.errors import InvalidInput
from backend.graphql.common import Error, InputError, optional_id, to_global_id, uuid_of
from backend.graphql.context import Info
from backend.graphql.messaging import dataloaders, inputs
from backend.graphql.messaging.types import Conversation, Message, conversation_from_view, message_from_record
from backend.messaging import service
from backend.messaging.codes import ConversationKind
from backend.messaging.errors import MessagingError as DomainMessagingError
from backend.messaging.errors import MessagingErrorCode as DomainMessagingErrorCode
from backend.messaging.errors import not_found
from backend.messaging.limits import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE
from backend.messaging.service import NewAttachment, NewConversation, NewMessage

MessagingErrorCode = strawberry.enum(DomainMessagingErrorCode)
T = TypeVar("T")


@strawberry.type(description="A messaging call was refused; nothing was written.")
class MessagingError(Error):
    code: MessagingErrorCode  # type: ignore[valid-type]
    message: str
    field: str | None

    @classmethod
    def from_domain(cls, error: DomainMessagingError) -> MessagingError:
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class ConversationSuccess:
    conversation: Conversation


@strawberry.type
class MessageSuccess:
    chat_message: Message = strawberry.field(description="(Not `message`: that is every error's text.)")


@strawberry.type
class TypingSuccess:
    conversation_id: strawberry.ID


@strawberry.type
class LeaveConversationSuccess:
    conversation_id: strawberry.ID


@strawberry.type
class PromoteMessageSuccess:
    chat_message: Message
    document_id: strawberry.ID = strawberry.field(description="The new document of the referral.")


ConversationResult = Annotated[
    ConversationSuccess | MessagingError | InputError, strawberry.union("ConversationResult")
]
MessageResult = Annotated[MessageSuccess | MessagingError | InputError, strawberry.union("MessageResult")]
TypingResult = Annotated[TypingSuccess | MessagingError, strawberry.union("TypingResult")]
LeaveConversationResult = Annotated[
    LeaveConversationSuccess | MessagingError, strawberry.union("LeaveConversationResult")
]
PromoteMessageResult = Annotated[
    PromoteMessageSuccess | MessagingError | InputError, strawberry.union("PromoteMessageResult")
]


def _id(global_id: str, type_name: str) -> UUID:
    parsed = uuid_of(global_id, type_name)
    if parsed is None:
        raise not_found()
    return parsed


def _attachments(uploads: list[inputs.MessageAttachmentUpload]) -> tuple[NewAttachment, ...]:
    problems = InvalidInput()
    if len(uploads) > MAX_ATTACHMENTS_PER_MESSAGE:
        problems.add("attachments", "TOO_MANY", f"At most {MAX_ATTACHMENTS_PER_MESSAGE} attachments.")
        raise problems
    found = []
    for index, upload in enumerate(uploads):
        if len(upload.content_base64) > (MAX_ATTACHMENT_BYTES * 4) // 3 + 8:
            problems.add(
                f"attachments[{index}].content", "TOO_LARGE", f"At most {MAX_ATTACHMENT_BYTES // 1024} KiB."
            )
            continue
        try:
            content = base64.b64decode(upload.content_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.add(f"attachments[{index}].contentBase64", "INVALID_BASE64", "Not valid base64.")
            continue
        found.append(NewAttachment(upload.filename, upload.media_type.strip().lower(), content))
    problems.raise_if_any()
    return tuple(found)


async def _run(call: Callable[[], Awaitable[T]]) -> T | MessagingError | InputError:
    try:
        return await call()
    except DomainMessagingError as error:
        return MessagingError.from_domain(error)
    except InvalidInput as error:
        return InputError.from_domain(error)


@strawberry.type
class MessagingMutations:
    @strawberry.mutation(description="Start a direct or group conversation with colleagues or partners.")
    async def start_conversation(
        self, info: Info, input: inputs.StartConversationInput
    ) -> ConversationResult:
        async def call() -> ConversationSuccess:
            members = tuple(_id(m, "User") for m in input.member_ids[:100])
            view = await service.start_conversation(
                info.context.require_actor(),
                info.context.audit,
                NewConversation(
                    kind=ConversationKind(input.kind),
                    member_ids=members,
                    title=input.title,
                    retention_seconds=input.retention_seconds,
                ),
                min_retention_seconds=info.context.container.settings.messaging.min_retention_seconds,
            )
            return ConversationSuccess(conversation=conversation_from_view(view))

        return await _run(call)

    @strawberry.mutation(description="Add members to a group conversation.")
    async def add_conversation_members(
        self, info: Info, input: inputs.AddConversationMembersInput
    ) -> ConversationResult:
        async def call() -> ConversationSuccess:
            view = await service.add_members(
                info.context.require_actor(),
                info.context.audit,
                _id(input.conversation_id, "Conversation"),
                tuple(_id(m, "User") for m in input.member_ids[:100]),
            )
            return ConversationSuccess(conversation=conversation_from_view(view))

        return await _run(call)

    @strawberry.mutation(description="Leave a direct or group conversation (not a referral's).")
    async def leave_conversation(
        self, info: Info, input: inputs.LeaveConversationInput
    ) -> LeaveConversationResult:
        try:
            await service.leave_conversation(
                info.context.require_actor(), info.context.audit, _id(input.conversation_id, "Conversation")
            )
        except DomainMessagingError as error:
            return MessagingError.from_domain(error)
        return LeaveConversationSuccess(conversation_id=input.conversation_id)

    @strawberry.mutation(description="Send a message (idempotent per `clientMessageId`).")
    async def send_message(self, info: Info, input: inputs.SendMessageInput) -> MessageResult:
        async def call() -> MessageSuccess:
            sent = await service.send_message(
                info.context.require_actor(),
                info.context.audit,
                NewMessage(
                    conversation_id=_id(input.conversation_id, "Conversation"),
                    client_message_id=input.client_message_id,
                    body=input.body,
                    is_priority=input.is_priority,
                    reply_to_id=optional_id(input.reply_to_id, "Message", "replyToId"),
                    attachments=_attachments(input.attachments),
                ),
            )
            if sent.members is not None:
                dataloaders.prime_sent_conversation(
                    info.context.loaders, sent.message.conversation, sent.members, sent.member_names
                )
            return MessageSuccess(chat_message=message_from_record(sent.message))

        return await _run(call)

    @strawberry.mutation(description="Tell the others you received and/or read up to a message sequence.")
    async def mark_conversation_read(
        self, info: Info, input: inputs.MarkConversationReadInput
    ) -> ConversationResult:
        async def call() -> ConversationSuccess:
            view = await service.mark_read(
                info.context.require_actor(),
                _id(input.conversation_id, "Conversation"),
                delivered_up_to=input.delivered_up_to,
                read_up_to=input.read_up_to,
            )
            return ConversationSuccess(conversation=conversation_from_view(view))

        return await _run(call)

    @strawberry.mutation(description="Show or hide your typing indicator to the others (never stored).")
    async def set_typing(self, info: Info, input: inputs.SetTypingInput) -> TypingResult:
        try:
            conversation_id = _id(input.conversation_id, "Conversation")
            await service.set_typing(info.context.require_actor(), conversation_id, input.is_typing)
        except DomainMessagingError as error:
            return MessagingError.from_domain(error)
        return TypingSuccess(conversation_id=input.conversation_id)

    @strawberry.mutation(
        description="Recall your message for everyone (within 15 minutes); a tombstone remains."
    )
    async def recall_message(self, info: Info, input: inputs.RecallMessageInput) -> MessageResult:
        async def call() -> MessageSuccess:
            message = await service.recall_message(
                info.context.require_actor(), info.context.audit, _id(input.message_id, "Message")
            )
            return MessageSuccess(chat_message=message_from_record(message))

        return await _run(call)

    @strawberry.mutation(description="Set how long messages of this conversation are kept.")
    async def set_conversation_retention(
        self, info: Info, input: inputs.SetConversationRetentionInput
    ) -> ConversationResult:
        async def call() -> ConversationSuccess:
            view = await service.set_retention(
                info.context.require_actor(),
                info.context.audit,
                _id(input.conversation_id, "Conversation"),
                input.retention_seconds,
                minimum=info.context.container.settings.messaging.min_retention_seconds,
            )
            return ConversationSuccess(conversation=conversation_from_view(view))

        return await _run(call)

    @strawberry.mutation(description="Make a message (or an attachment) part of its referral's record.")
    async def promote_message_to_record(
        self, info: Info, input: inputs.PromoteMessageInput
    ) -> PromoteMessageResult:
        async def call() -> PromoteMessageSuccess:
            message, document_id = await service.promote_to_record(
                info.context.require_actor(),
                info.context.audit,
                message_id=_id(input.message_id, "Message"),
                attachment_id=optional_id(input.attachment_id, "MessageAttachment", "attachmentId"),
                idempotency_key=input.idempotency_key,
            )
            return PromoteMessageSuccess(
                chat_message=message_from_record(message), document_id=to_global_id("Document", document_id)
            )

        return await _run(call)
