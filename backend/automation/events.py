"""What automation says happened; backend/wiring.py decides who reacts (the stream, push)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from backend.core.events import DomainEvent
from backend.referrals.records import Referral


@dataclass(frozen=True, slots=True, kw_only=True)
class AutomationStepFired(DomainEvent):
    """A reminder or escalation went out: ``told`` are the users of its audience, ``recipients``
    everyone who may see the referral (they see it on the stream and the timeline)."""

    referral: Referral
    rule: str
    audience: str
    deadline: datetime | None
    late: bool
    escalation: bool
    told: list[UUID]
    recipients: list[UUID]
