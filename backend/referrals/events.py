"""What the referral domain says happened to a referral; backend/wiring.py decides who reacts
(the stream, push, and later automation, analytics and the EHR notifier)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.core.events import DomainEvent
from backend.referrals import records


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferralChanged(DomainEvent):
    """``before`` is None for a new referral; ``action`` is the lifecycle action's code;
    ``actor_id`` is the user who acted (None: the system, e.g. expiry)."""

    before: records.Referral | None
    after: records.Referral
    action: str
    actor_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AppointmentChanged(DomainEvent):
    referral: records.Referral
    appointment: records.Appointment
    action: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentAdded(DomainEvent):
    referral: records.Referral
    document_id: str
    kind: str
    action: str
