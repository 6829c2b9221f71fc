"""Push error codes, part of the mobile contract (never rename, only add)."""

from __future__ import annotations

from enum import StrEnum

from backend.core.errors import DomainError


class PushErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    TOO_MANY_DEVICES = "TOO_MANY_DEVICES"


class PushError(DomainError):
    code: PushErrorCode

    def __init__(self, code: PushErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
