"""Messaging codes and limits, part of the mobile contract (codes: never rename, only add)."""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import DomainError

MAX_BODY_CHARS = 4_000
MAX_TITLE_CHARS = 120
MAX_CLIENT_MESSAGE_ID = 64
MAX_ATTACHMENTS_PER_MESSAGE = 3
MAX_ATTACHMENT_BYTES = 512 * 1024
MAX_GROUP_MEMBERS = 50
ATTACHMENT_MEDIA_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "image/heic", "text/plain"})
RECALL_WINDOW_SECONDS = 15 * 60
MAX_RETENTION_SECONDS = 10 * 366 * 24 * 3600


class ConversationKind(StrEnum):
    REFERRAL = "REFERRAL"
    DIRECT = "DIRECT"
    GROUP = "GROUP"


class MessageState(StrEnum):
    ACTIVE = "ACTIVE"
    RECALLED = "RECALLED"
    EXPIRED = "EXPIRED"


class ReceiptStatus(StrEnum):
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"


class MessagingErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    NOT_PERMITTED = "NOT_PERMITTED"
    RECALL_WINDOW_PASSED = "RECALL_WINDOW_PASSED"
    MESSAGE_UNAVAILABLE = "MESSAGE_UNAVAILABLE"
    NOT_A_REFERRAL_CONVERSATION = "NOT_A_REFERRAL_CONVERSATION"
    ALREADY_PROMOTED = "ALREADY_PROMOTED"
    PROMOTION_REFUSED = "PROMOTION_REFUSED"
    MEMBER_NOT_REACHABLE = "MEMBER_NOT_REACHABLE"
    CLIENT_MESSAGE_ID_REUSED = "CLIENT_MESSAGE_ID_REUSED"


class MessagingError(DomainError):
    code: MessagingErrorCode

    def __init__(self, code: MessagingErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


def not_found() -> MessagingError:
    """The same answer for "does not exist" and "not yours": callers cannot probe for ids."""
    return MessagingError(MessagingErrorCode.NOT_FOUND, "Not found.")
