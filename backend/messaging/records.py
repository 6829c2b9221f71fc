"""The messaging domain's records: what backend/messaging/repository.py returns.

Each is a frozen ``msgspec.Struct`` (built in about a microsecond; never validated again, never
changed: ``msgspec.structs.replace`` makes a changed copy). Fields are named like the table's
columns, so a full row builds one with ``Record(**row)``: the repository opens what is sealed
(titles, bodies, attachment names and content) in the row first, then builds the record. A
narrower or joined select gets its own small record (``MessageSummary``, ``RemovedMessage``,
``ReadState``).

Codes (``kind``, ``state``) are the stored strings; compare them with the enums of
backend/messaging/codes.py (string enums).
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from backend.referrals.records import ReferralAccess


class Conversation(msgspec.Struct, frozen=True, kw_only=True):
    """A conversation, its title opened. ``active_members`` and ``referral_access`` are what was
    read with it for its access check (backend/messaging/access.py); ``None``: not read."""

    id: UUID
    kind: str
    referral: UUID | None
    title: str
    wrapped_key: str
    retention_seconds: int | None
    last_sequence: int
    last_message_at: datetime | None
    activity_at: datetime
    created_by: UUID | None
    created_at: datetime
    # member id -> display name, as conversation_with_members' join read them
    active_members: dict[UUID, str] | None = None
    # the referral's access columns, as backend/referrals/repository.py access_rows read them
    referral_access: ReferralAccess | None = None


class ReadState(msgspec.Struct, frozen=True, kw_only=True):
    """A member's markers in a conversation (a ``conversation_member`` row's read state)."""

    conversation: UUID
    user: UUID
    delivered_up_to: int
    read_up_to: int


class MessageAttachment(msgspec.Struct, frozen=True, kw_only=True):
    """An attachment's metadata, its file name opened; ``sender`` is its message's."""

    id: UUID
    message: UUID
    conversation: UUID
    filename: str
    media_type: str
    size_bytes: int
    promoted_document: UUID | None
    sender: UUID


class AttachmentContent(MessageAttachment, frozen=True, kw_only=True):
    """An attachment with its content opened, and its message's state and expiry."""

    content: bytes
    state: str
    expires_at: datetime | None


class Message(msgspec.Struct, frozen=True, kw_only=True):
    """A message as a reader sees it: ``state`` EXPIRED once past ``expires_at``; ``body`` opened
    (``None`` and no ``attachments`` unless ACTIVE)."""

    id: UUID
    conversation: UUID
    sequence: int
    sender: UUID
    client_message_id: str
    body: str | None
    is_priority: bool
    reply_to: UUID | None
    state: str
    sent_at: datetime
    expires_at: datetime | None
    recalled_at: datetime | None
    promoted_document: UUID | None
    attachments: list[MessageAttachment] = []


class MessageSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A message's columns without its text (nothing opened): for checks that need no text.
    ``state`` is the stored one (an expired message may still read ACTIVE here)."""

    id: UUID
    conversation: UUID
    sequence: int
    sender: UUID
    state: str
    sent_at: datetime
    expires_at: datetime | None
    promoted_document: UUID | None


class RemovedMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A message whose content was just destroyed (recalled or expired)."""

    id: UUID
    conversation: UUID
    sequence: int
