"""Patient error codes, part of the mobile contract (never rename, only add)."""

from enum import StrEnum

from backend.core.errors import DomainError


class PatientErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    MRN_TAKEN = "MRN_TAKEN"


class PatientError(DomainError):
    code: PatientErrorCode

    def __init__(self, code: PatientErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)
