"""Messaging error codes, part of the mobile contract (never rename, only add)."""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import DomainError


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
