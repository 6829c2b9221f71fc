"""Types shared by every domain's schema: Node and global ids, input errors, pagination."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

import strawberry

from backend.core.errors import InvalidInput
from backend.core.ids import global_id
from backend.graphql.errors import bad_user_input


@strawberry.interface(description="An object with a stable global id, refetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.interface(description="Every expected failure: a human-readable message.")
class Error:
    message: str


def to_global_id(type_name: str, raw_id: UUID | str) -> strawberry.ID:
    return strawberry.ID(global_id(type_name, raw_id))


def from_global_id(global_id: str) -> tuple[str, str] | None:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (type_name, raw) if type_name and raw else None


def uuid_of(global_id: str, type_name: str) -> UUID | None:
    """The UUID inside a global id of ``type_name``, or None for anything else."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] != type_name or len(global_id) > 100:
        return None
    try:
        return UUID(decoded[1])
    except ValueError:
        return None


def optional_id(global_id: str | None, type_name: str, field_name: str) -> UUID | None:
    """An optional id input: None when absent, its UUID, or a NOT_FOUND problem on ``field_name``."""
    if global_id is None:
        return None
    parsed = uuid_of(global_id, type_name)
    if parsed is None:
        problems = InvalidInput()
        problems.add(field_name, "NOT_FOUND", f"Not a {type_name} id.")
        raise problems
    return parsed


@strawberry.type(description="One invalid input field.")
class FieldError:
    field: str = strawberry.field(description="The input field, in camelCase as sent.")
    code: str
    message: str


@strawberry.type(description="The input failed validation; every problem is listed.")
class InputError(Error):
    message: str
    field_errors: list[FieldError]

    @classmethod
    def from_domain(cls, error: InvalidInput) -> InputError:
        return cls(
            message="Some fields are invalid.",
            field_errors=[FieldError(field=p.field, code=p.code, message=p.message) for p in error.problems],
        )


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = strawberry.field(
        default=False, description="For lists paged backwards (`last`/`before`): older items exist."
    )
    start_cursor: str | None = None


def page_size(first: int | None, *, maximum: int, default: int = 20) -> int:
    size = default if first is None else first
    if size < 1 or size > maximum:
        raise bad_user_input(f"`first` must be between 1 and {maximum}.", "first")
    return size


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise bad_user_input("`after` is not a cursor from this list.", "after") from error


class _Identified(Protocol):
    @property
    def id(self) -> UUID: ...


R = TypeVar("R", bound=_Identified)


def in_order(records: Iterable[R], ids: Sequence[UUID]) -> list[R | None]:
    """A DataLoader's answer: the record of each id, in the order asked (None: not found)."""
    found = {record.id: record for record in records}
    return [found.get(i) for i in ids]
