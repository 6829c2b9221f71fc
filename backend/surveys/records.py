"""Typed, immutable survey records as the repository returns them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec


class SurveyInvitation(msgspec.Struct, frozen=True, kw_only=True):
    """An invitation (``salt`` rebuilds its link: see backend/surveys/tables.py); the answer's
    columns are read apart (``SurveyAnswer``)."""

    id: UUID
    referral: UUID
    organization: UUID
    delivery: str
    salt: str
    secret_digest: str
    visit_on: date | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None


class SurveyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The patient's answer, its comment in plaintext."""

    overall: int
    recommend: int
    wait_acceptable: bool
    comment: str
    answered_at: datetime


class SurveyEmail(msgspec.Struct, frozen=True, kw_only=True):
    """What the invitation e-mail carries: the address, the organization's name and the link."""

    to: str
    organization_name: str
    link: str


class SurveyPage(msgspec.Struct, frozen=True, kw_only=True):
    """What the survey page shows: the organization's name and the visit date, nothing clinical."""

    invitation_id: UUID
    organization_name: str
    visit_on: date | None
