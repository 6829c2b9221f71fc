"""Protocol error codes, part of the mobile contract (never rename, only add)."""

from enum import StrEnum

from backend.core.errors import DomainError


class ProtocolErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"


class ProtocolError(DomainError):
    code: ProtocolErrorCode
