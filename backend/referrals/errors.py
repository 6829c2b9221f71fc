"""Referral error codes, part of the mobile contract (never rename, only add)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from backend.core.errors import DomainError
from backend.referrals.lifecycle import Action, Status


class ReferralErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    NOT_PERMITTED = "NOT_PERMITTED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    MISSING_REQUIRED_ITEMS = "MISSING_REQUIRED_ITEMS"
    VISIT_NOT_STARTED = "VISIT_NOT_STARTED"


class ReferralError(DomainError):
    code: ReferralErrorCode

    def __init__(
        self,
        code: ReferralErrorCode,
        message: str,
        *,
        field: str | None = None,
        current_status: Status | None = None,
        current_version: int | None = None,
        allowed_actions: Sequence[Action] = (),
        missing_items: Sequence[str] = (),
        appointment_starts_at: datetime | None = None,
    ) -> None:
        super().__init__(code, message, field=field)
        self.current_status = current_status
        self.current_version = current_version
        self.allowed_actions = list(allowed_actions)
        self.missing_items = list(missing_items)
        self.appointment_starts_at = appointment_starts_at


def not_found() -> ReferralError:
    """The same answer for "does not exist" and "not yours": callers cannot probe for ids."""
    return ReferralError(ReferralErrorCode.NOT_FOUND, "Not found.")
