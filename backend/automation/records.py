"""Automation records: what backend/automation/repository.py returns (frozen msgspec structs,
named like the table's columns)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class Step(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    referral: UUID
    rule: str
    rung: int
    audience: str
    due_at: datetime
    deadline: datetime | None
    status: str
    attempts: int
    claimed_until: datetime | None
    fired_at: datetime | None
    late: bool
    created_at: datetime


class PlannedStep(msgspec.Struct, frozen=True, kw_only=True):
    """A step the planner wants to exist (not yet a row)."""

    rule: str
    rung: int
    audience: str
    due_at: datetime
    deadline: datetime | None
