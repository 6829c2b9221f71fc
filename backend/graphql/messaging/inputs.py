"""Inputs of messaging mutations."""

from __future__ import annotations

import strawberry

from backend.graphql.messaging.types import ConversationKind


@strawberry.input(description="An attachment, base64-encoded (limits: see SendMessageInput).")
class MessageAttachmentUpload:
    filename: str
    media_type: str
    content_base64: str


@strawberry.input(
    description="A message. Text up to 4000 characters; up to 3 attachments of at most 512 KiB "
    "(720 KiB together) of PDF, JPEG, PNG, HEIC or plain text. Retrying with the same "
    "`clientMessageId` (8 to 64 characters, unique per message) returns the message already stored."
)
class SendMessageInput:
    conversation_id: strawberry.ID
    client_message_id: str
    body: str
    is_priority: bool = False
    reply_to_id: strawberry.ID | None = None
    attachments: list[MessageAttachmentUpload] = strawberry.field(default_factory=list)


@strawberry.input(description="A direct (one other member) or group (titled) conversation.")
class StartConversationInput:
    kind: ConversationKind  # type: ignore[valid-type]
    member_ids: list[strawberry.ID]
    title: str = ""
    retention_seconds: int | None = None


@strawberry.input(description="Move your markers forward (they never move back).")
class MarkConversationReadInput:
    conversation_id: strawberry.ID
    delivered_up_to: int | None = None
    read_up_to: int | None = None


@strawberry.input
class SetTypingInput:
    conversation_id: strawberry.ID
    is_typing: bool


@strawberry.input
class RecallMessageInput:
    message_id: strawberry.ID


@strawberry.input(
    description=(
        "null keeps messages; otherwise seconds after sending. Applies to every live message, "
        "those already sent included (feature level 6): older ones expire at once."
    )
)
class SetConversationRetentionInput:
    conversation_id: strawberry.ID
    retention_seconds: int | None


@strawberry.input(
    description="Copy a message (or one attachment of it) into its referral's documents, with "
    "provenance. `idempotencyKey` as for referral changes."
)
class PromoteMessageInput:
    message_id: strawberry.ID
    idempotency_key: str
    attachment_id: strawberry.ID | None = None


@strawberry.input(
    description="Add people to a group (colleagues, your network, or a shared referral's other side)."
)
class AddConversationMembersInput:
    conversation_id: strawberry.ID
    member_ids: list[strawberry.ID]


@strawberry.input
class LeaveConversationInput:
    conversation_id: strawberry.ID
