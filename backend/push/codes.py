"""Push coded values, stored in rows and part of the mobile contract (never rename, only add)."""

from enum import StrEnum


class Platform(StrEnum):
    IOS = "IOS"
    ANDROID = "ANDROID"


class Category(StrEnum):
    """What a user can switch on and off."""

    REFERRAL_UPDATES = "REFERRAL_UPDATES"
    MESSAGES = "MESSAGES"
    REMINDERS = "REMINDERS"
    ESCALATIONS = "ESCALATIONS"


class PushType(StrEnum):
    """The ``type`` of a payload: what the app opens."""

    REFERRAL_RECEIVED = "REFERRAL_RECEIVED"
    REFERRAL_UPDATED = "REFERRAL_UPDATED"
    NEW_MESSAGE = "NEW_MESSAGE"
    REFERRAL_REMINDER = "REFERRAL_REMINDER"
    REFERRAL_ESCALATION = "REFERRAL_ESCALATION"


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class SkipReason(StrEnum):
    LIVE = "LIVE"
    DEVICE_REMOVED = "DEVICE_REMOVED"


class FailReason(StrEnum):
    UNREGISTERED = "UNREGISTERED"
    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    ATTEMPTS_EXHAUSTED = "ATTEMPTS_EXHAUSTED"
    SENDER_ID_MISMATCH = "SENDER_ID_MISMATCH"
    THIRD_PARTY_AUTH = "THIRD_PARTY_AUTH"
