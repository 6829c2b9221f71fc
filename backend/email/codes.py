"""E-mail outbox codes (stored as codes: never rename, only add)."""

from enum import StrEnum


class EmailKind(StrEnum):
    SURVEY_INVITATION = "SURVEY_INVITATION"


class EmailStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


class EmailFailReason(StrEnum):
    REJECTED = "REJECTED"  # the server refused the recipient or the message (5xx): never retried
    ATTEMPTS_EXHAUSTED = "ATTEMPTS_EXHAUSTED"  # parked after EMAIL_MAX_ATTEMPTS
    UNREADABLE = "UNREADABLE"  # the sealed row does not decrypt
