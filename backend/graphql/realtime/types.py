"""GraphQL types of the realtime stream: typed events and the subscriptions.

Subscriptions are served by :mod:`backend.graphql.realtime.connection`, which renders events
straight from the stream (one rendering per event and document, shared by every subscriber);
the resolvers below only declare the fields for the schema.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from backend.graphql.context import Info
from backend.graphql.protocols.types import Audience, AutomationRule, DocumentKind
from backend.graphql.referrals.types import AppointmentStatus, ReferralStatus
from backend.realtime.events import TYPING, ChatEventType, EventType

StreamEventType = strawberry.enum(EventType, description="The kind of a stream event.")
ConversationEventType = strawberry.enum(ChatEventType, description="The kind of a conversation event.")

TYPENAMES: dict[str, str] = {
    EventType.REFERRAL_CREATED: "ReferralCreated",
    EventType.REFERRAL_STATUS_CHANGED: "ReferralStatusChanged",
    EventType.REFERRAL_UPDATED: "ReferralUpdated",
    EventType.APPOINTMENT_CHANGED: "AppointmentChanged",
    EventType.DOCUMENT_ADDED: "DocumentAdded",
    EventType.AUTOMATION_STEP_FIRED: "AutomationStepFired",
    ChatEventType.CONVERSATION_CHANGED: "ConversationChanged",
    ChatEventType.MESSAGE_SENT: "MessageSent",
    ChatEventType.MESSAGE_RECALLED: "MessageRecalled",
    ChatEventType.MESSAGE_EXPIRED: "MessageExpired",
    ChatEventType.READ_STATE_CHANGED: "ReadStateChanged",
    TYPING: "TypingIndicator",
}
INTERFACES = frozenset({"StreamEvent", "ConversationEvent"})


@strawberry.interface(
    description="One event of your stream. `sequence` increases by one per event addressed to you: "
    "resume with `after:` the last one you processed."
)
class StreamEvent:
    sequence: int
    event_id: strawberry.ID = strawberry.field(description="The same for every recipient of one change.")
    type: StreamEventType  # type: ignore[valid-type]
    occurred_at: datetime
    referral_id: strawberry.ID
    version: int = strawberry.field(description="The referral's version after the change.")
    status: ReferralStatus  # type: ignore[valid-type]
    action: str = strawberry.field(description="The ReferralAction (or CREATE) that caused it.")


@strawberry.type(description="A referral you may see was created (a draft, for its referring side).")
class ReferralCreated(StreamEvent):
    pass


@strawberry.type(description="A referral's status changed.")
class ReferralStatusChanged(StreamEvent):
    previous_status: ReferralStatus  # type: ignore[valid-type]
    reason_code: str | None


@strawberry.type(description="A referral changed without a status change (edit, routing, tracks).")
class ReferralUpdated(StreamEvent):
    pass


@strawberry.type(description="An appointment of a referral was booked, moved, cancelled, missed or held.")
class AppointmentChanged(StreamEvent):
    appointment_id: strawberry.ID
    appointment_status: AppointmentStatus  # type: ignore[valid-type]
    starts_at: datetime


@strawberry.type(description="A document was added to a referral.")
class DocumentAdded(StreamEvent):
    document_id: strawberry.ID
    kind: DocumentKind  # type: ignore[valid-type]


@strawberry.type(
    description="The system sent a reminder or an escalation about a referral (its escalation "
    "ladder, SPEC §8); the timeline has the entry. action is REMIND or ESCALATE."
)
class AutomationStepFired(StreamEvent):
    rule: AutomationRule  # type: ignore[valid-type]
    audience: Audience = strawberry.field(description="Who was told.")  # type: ignore[valid-type]
    deadline: datetime | None = strawberry.field(description="The deadline the step is about.")
    late: bool = strawberry.field(description="Sent late: the service was unavailable when it was due.")


@strawberry.interface(
    description="One event of a conversation you are in. `sequence` is your stream's sequence (shared "
    "with referral events): resume `conversationEvents` with `after:` the last one you processed."
)
class ConversationEvent:
    sequence: int
    event_id: strawberry.ID
    type: ConversationEventType  # type: ignore[valid-type]
    occurred_at: datetime
    conversation_id: strawberry.ID


@strawberry.type(
    description="A conversation was created with you in it, or its members or retention changed."
)
class ConversationChanged(ConversationEvent):
    change: str = strawberry.field(description="CREATED, MEMBERS or RETENTION.")


@strawberry.type(description="A new message: fetch it with `conversation { messages(after:) }`.")
class MessageSent(ConversationEvent):
    message_id: strawberry.ID
    message_sequence: int
    sender_id: strawberry.ID
    is_priority: bool


@strawberry.type(description="Its sender recalled a message: show the tombstone, drop the text.")
class MessageRecalled(ConversationEvent):
    message_id: strawberry.ID
    message_sequence: int


@strawberry.type(description="A message reached the end of its retention and was destroyed.")
class MessageExpired(ConversationEvent):
    message_id: strawberry.ID
    message_sequence: int


@strawberry.type(description="A member's delivered/read markers moved (receipts).")
class ReadStateChanged(ConversationEvent):
    user_id: strawberry.ID
    delivered_up_to: int
    read_up_to: int


@strawberry.type(description="Someone started or stopped typing (ephemeral: never stored or replayed).")
class TypingIndicator:
    event_id: strawberry.ID
    occurred_at: datetime
    conversation_id: strawberry.ID
    user_id: strawberry.ID
    is_typing: bool


EVENT_TYPES = (
    ReferralCreated,
    ReferralStatusChanged,
    ReferralUpdated,
    AppointmentChanged,
    DocumentAdded,
    AutomationStepFired,
    ConversationChanged,
    MessageSent,
    MessageRecalled,
    MessageExpired,
    ReadStateChanged,
)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every event addressed to you, in order: first those after `after` (replayed from "
        "the server's log), then live ones. Use `streamPosition` from a query as `after`."
    )
    async def events(self, info: Info, after: int = 0) -> AsyncGenerator[StreamEvent, None]:
        raise NotImplementedError("served by backend.graphql.realtime.connection")
        yield  # pragma: no cover

    @strawberry.subscription(
        description="The events of one referral you may see, after `after` (your stream's sequence). "
        "A referral you may not see answers like one that does not exist (error NOT_FOUND)."
    )
    async def referral_events(
        self, info: Info, referral_id: strawberry.ID, after: int = 0
    ) -> AsyncGenerator[StreamEvent, None]:
        raise NotImplementedError("served by backend.graphql.realtime.connection")
        yield  # pragma: no cover

    @strawberry.subscription(
        description="Events of your conversations (of one, with `conversationId`), after `after`: "
        "replayed, then live. A conversation you may not see answers NOT_FOUND."
    )
    async def conversation_events(
        self, info: Info, after: int = 0, conversation_id: strawberry.ID | None = None
    ) -> AsyncGenerator[ConversationEvent, None]:
        raise NotImplementedError("served by backend.graphql.realtime.connection")
        yield  # pragma: no cover

    @strawberry.subscription(description="Typing indicators of one conversation (live only).")
    async def typing_indicators(
        self, info: Info, conversation_id: strawberry.ID
    ) -> AsyncGenerator[TypingIndicator, None]:
        raise NotImplementedError("served by backend.graphql.realtime.connection")
        yield  # pragma: no cover
