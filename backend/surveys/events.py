"""Survey events: an invitation was created (the e-mail subsystem queues it), an answer arrived."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.core.events import DomainEvent
from backend.surveys import records


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyInvited(DomainEvent):
    """``email`` is set when the patient's contact preference is EMAIL (the e-mail to queue)."""

    invitation: records.SurveyInvitation
    email: records.SurveyEmail | None


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAnswered(DomainEvent):
    invitation_id: UUID
    referral_id: UUID
