"""Messaging coded values the mobile apps send and show (stored as codes: never rename, only add)."""

from enum import StrEnum


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
