"""A protocol version as the referral service uses it: requirements and SLA deadlines.

Stored as JSON on the version row::

    required_fields: ["REASON", "DIAGNOSES", ...]          (backend.protocols.codes.RequiredField)
    required_attachment_kinds: ["LAB_RESULTS", ...]        (backend.protocols.codes.DocumentKind)
    sla: {"STAT": {"respond_hours": 4, "schedule_days": 2}, ..., "valid_days": 90,
          "ladder": {"STAT": [{"rule": "RESPOND_REMINDER", "percent_of_window": 25}, ...], ...}}
                                                           (backend/protocols/ladder.py)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.protocols.codes import DocumentKind, RequiredField
from backend.protocols.ladder import DEFAULT_LADDER, Rung, ladder_from_json, ladder_to_json
from backend.protocols.records import ProtocolVersion
from backend.referrals.lifecycle import Priority


@dataclass(frozen=True, slots=True)
class Deadline:
    respond_hours: int
    schedule_days: int


DEFAULT_SLA: dict[Priority, Deadline] = {
    Priority.STAT: Deadline(respond_hours=4, schedule_days=2),
    Priority.URGENT: Deadline(respond_hours=24, schedule_days=7),
    Priority.ROUTINE: Deadline(respond_hours=72, schedule_days=30),
}
DEFAULT_VALID_DAYS = 90


@dataclass(frozen=True, slots=True)
class Policy:
    required_fields: tuple[RequiredField, ...] = ()
    required_attachment_kinds: tuple[DocumentKind, ...] = ()
    sla: tuple[tuple[Priority, Deadline], ...] = tuple(DEFAULT_SLA.items())
    valid_days: int = DEFAULT_VALID_DAYS
    ladder: tuple[tuple[Priority, tuple[Rung, ...]], ...] = tuple(DEFAULT_LADDER.items())

    def rungs(self, priority: Priority) -> tuple[Rung, ...]:
        return dict(self.ladder).get(priority, DEFAULT_LADDER[priority])

    def deadline(self, priority: Priority) -> Deadline:
        return dict(self.sla).get(priority, DEFAULT_SLA[priority])

    def respond_by(self, priority: Priority, sent_at: datetime) -> datetime:
        return sent_at + timedelta(hours=self.deadline(priority).respond_hours)

    def schedule_by(self, priority: Priority, accepted_at: datetime) -> datetime:
        return accepted_at + timedelta(days=self.deadline(priority).schedule_days)

    def expires_at(self, sent_at: datetime) -> datetime:
        return sent_at + timedelta(days=self.valid_days)

    def to_json(self) -> dict[str, Any]:
        sla: dict[str, Any] = {
            p.value: {"respond_hours": d.respond_hours, "schedule_days": d.schedule_days} for p, d in self.sla
        }
        sla["valid_days"] = self.valid_days
        sla["ladder"] = ladder_to_json(self.ladder)
        return {
            "required_fields": [f.value for f in self.required_fields],
            "required_attachment_kinds": [k.value for k in self.required_attachment_kinds],
            "sla": sla,
        }


def _load(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def policy_from_record(row: ProtocolVersion | None) -> Policy:
    """The policy of a protocol version (the defaults when there is none)."""
    if row is None:
        return Policy()
    sla = _load(row.sla) or {}
    return Policy(
        required_fields=tuple(RequiredField(f) for f in _load(row.required_fields) or []),
        required_attachment_kinds=tuple(DocumentKind(k) for k in _load(row.required_attachment_kinds) or []),
        sla=tuple(
            (p, Deadline(sla[p.value]["respond_hours"], sla[p.value]["schedule_days"]))
            if p.value in sla
            else (p, DEFAULT_SLA[p])
            for p in Priority
        ),
        valid_days=int(sla.get("valid_days", DEFAULT_VALID_DAYS)),
        ladder=ladder_from_json(sla.get("ladder")),
    )
