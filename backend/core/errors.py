"""The base of every expected (typed) failure a domain service can report.

Transport maps each subclass to a GraphQL error type with a stable code. Services raise these
only before writing anything they would not want committed: the boundary commits anyway, so
that deliberate writes (a failed-login counter, an audit row) survive the error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    code: str
    message: str


class DomainError(Exception):
    """An expected failure with a machine-readable code."""

    code: StrEnum

    def __init__(self, code: StrEnum, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


@dataclass(slots=True)
class InvalidInput(Exception):
    """Input that fails validation, with every problem found (not just the first)."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, field_name: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem(field_name, code, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise self
