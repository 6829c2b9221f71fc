"""Account error codes, part of the mobile contract (never rename, only add)."""

from enum import StrEnum

from backend.core.errors import DomainError


class AccountErrorCode(StrEnum):
    NOT_FOUND = "NOT_FOUND"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    NPI_TAKEN = "NPI_TAKEN"
    LAST_ADMIN = "LAST_ADMIN"
    CANNOT_DEACTIVATE_SELF = "CANNOT_DEACTIVATE_SELF"
    NOT_HOME_ORGANIZATION = "NOT_HOME_ORGANIZATION"


class AccountError(DomainError):
    code: AccountErrorCode

    def __init__(self, code: AccountErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(code, message, field=field)


def not_found() -> AccountError:
    """The same answer for "does not exist" and "not yours": callers cannot probe for ids."""
    return AccountError(AccountErrorCode.NOT_FOUND, "Not found.")
