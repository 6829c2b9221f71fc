"""The post-visit patient survey: invite once per referral, open a link, answer once, read.

    invite(referral, now)  after the visit (the automation runner calls it once the delay has
                           passed): one invitation per referral, its link signed and expiring;
                           SurveyInvited (with the e-mail to queue when the patient chose EMAIL)
    open_link(token, now)  the page's GET: the organization's name and the visit date, or None
    open_invitation, answer(invitation, …, now)   the page's POST: the link opened once, the
                           answer stored once (False: answered meanwhile)
    survey_of / link_of / read_answer   what the referral's parties see over GraphQL (audited)

A link is ``{PUBLIC_BASE_URL}/survey/{token}``, token = ``<invitation id hex>.<secret>.<sig>``:
the secret is HMAC(link key, "survey-secret|id|salt") (only its SHA-256 digest is stored), the
signature HMAC(link key, "survey-link|id|secret") (backend/crypto/links.py). A forged, altered,
expired, used or unknown token is answered the same way (None): the page cannot tell them apart.
Never commits.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.core.errors import InvalidInput
from backend.core.events import emit
from backend.core.secrets import token_digest
from backend.crypto import links
from backend.logging import get_logger
from backend.patients import repository as patients
from backend.patients.codes import ContactPreference
from backend.referrals import records as referral_records
from backend.referrals import repository as referrals
from backend.referrals.codes import AppointmentStatus
from backend.referrals.lifecycle import Status
from backend.settings import get_settings
from backend.surveys import access, records, repository
from backend.surveys.codes import SurveyDelivery, SurveyState
from backend.surveys.errors import SurveyFieldCode
from backend.surveys.events import SurveyAnswered, SurveyInvited
from backend.surveys.limits import (
    MAX_COMMENT,
    OVERALL_MAX,
    OVERALL_MIN,
    RECOMMEND_MAX,
    RECOMMEND_MIN,
    SECRET_CHARS,
    SIGNATURE_CHARS,
)

logger = get_logger(__name__)
VISITED = frozenset({Status.VISIT_COMPLETED.value, Status.CLOSED.value})


class SurveyView(msgspec.Struct, frozen=True, kw_only=True):
    """A referral's survey as its parties see it (the answer is read apart: ``read_answer``)."""

    invitation: records.SurveyInvitation
    state: SurveyState


class Answers(msgspec.Struct, frozen=True, kw_only=True):
    overall: int
    recommend: int
    wait_acceptable: bool
    comment: str


# --- links --------------------------------------------------------------------------------------


def _secret(invitation_id: UUID, salt: str) -> str:
    return links.sign("survey-secret", invitation_id.hex, salt)[:SECRET_CHARS]


def _signature(invitation_id: UUID, secret: str) -> str:
    return links.sign("survey-link", invitation_id.hex, secret)[:SIGNATURE_CHARS]


def token_of(invitation: records.SurveyInvitation) -> str:
    secret = _secret(invitation.id, invitation.salt)
    return f"{invitation.id.hex}.{secret}.{_signature(invitation.id, secret)}"


def link_url(invitation: records.SurveyInvitation) -> str:
    return f"{get_settings().survey.public_base_url}/survey/{token_of(invitation)}"


def _parsed(token: str) -> tuple[UUID, str] | None:
    """The invitation id and secret of a well-formed token whose signature is ours."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) != SECRET_CHARS or len(parts[2]) != SIGNATURE_CHARS:
        return None
    try:
        invitation_id = UUID(hex=parts[0])
    except ValueError:
        return None
    if not secrets.compare_digest(parts[2], _signature(invitation_id, parts[1])):
        return None
    return invitation_id, parts[1]


async def open_invitation(token: str, *, now: datetime) -> records.SurveyInvitation | None:
    """The invitation a valid, unused, unexpired link names; None for every other link."""
    parsed = _parsed(token)
    if parsed is None:
        return None
    invitation = await repository.invitation_by_id(parsed[0])
    if invitation is None or not secrets.compare_digest(invitation.secret_digest, token_digest(parsed[1])):
        return None
    if invitation.answered_at is not None or invitation.expires_at <= now:
        return None
    return invitation


# --- invite -------------------------------------------------------------------------------------


async def invite(referral_id: UUID, *, now: datetime) -> records.SurveyInvitation | None:
    """The referral's invitation, created on the first call once its visit is completed (later
    calls return it); None when the referral is unknown or its visit not completed."""
    existing = await repository.invitation_of_referral(referral_id)
    if existing is not None:
        return existing
    referral = await referrals.referral_by_id(referral_id)
    if referral is None or referral.status not in VISITED:
        return None
    patient = await patients.patient_by_id(referral.patient)
    emailed = (
        patient is not None
        and patient.contact_preference == ContactPreference.EMAIL.value
        and bool(patient.email)
    )
    appointment = (await referrals.latest_appointments([referral_id])).get(referral_id)
    visit_on = (
        appointment.starts_at.date()
        if appointment is not None and appointment.status == AppointmentStatus.COMPLETED.value
        else None
    )
    settings = get_settings()
    invitation_id = uuid.uuid4()
    salt = secrets.token_urlsafe(24)
    invitation = await repository.insert_invitation(
        invitation_id=invitation_id,
        referral_id=referral_id,
        organization_id=referral.receiving_organization,
        delivery=(SurveyDelivery.EMAIL if emailed else SurveyDelivery.HAND_OVER).value,
        salt=salt,
        secret_digest=token_digest(_secret(invitation_id, salt)),
        visit_on=visit_on,
        created_at=now,
        expires_at=now + timedelta(days=settings.survey.link_days),
    )
    if invitation is None:  # invited concurrently: that one stands
        return await repository.invitation_of_referral(referral_id)
    link = link_url(invitation)
    email = None
    if emailed:
        assert patient is not None
        assert patient.email
        organization = await accounts.organization_by_id(referral.receiving_organization)
        email = records.SurveyEmail(
            to=patient.email, organization_name=organization.name if organization else "", link=link
        )
    if settings.is_dev and settings.email.smtp_host is None:
        # development only: the link lets a developer open the page (never logged elsewhere)
        logger.info("survey.invited", delivery=invitation.delivery, link=link)
    await emit(SurveyInvited(invitation=invitation, email=email, occurred_at=now))
    return invitation


# --- the page -----------------------------------------------------------------------------------


async def open_link(token: str, *, now: datetime) -> records.SurveyPage | None:
    invitation = await open_invitation(token, now=now)
    return None if invitation is None else await page_of(invitation)


async def page_of(invitation: records.SurveyInvitation) -> records.SurveyPage:
    """What the page shows of an open invitation: the organization's name and the visit date."""
    organization = await accounts.organization_by_id(invitation.organization)
    return records.SurveyPage(
        invitation_id=invitation.id,
        organization_name=organization.name if organization else "",
        visit_on=invitation.visit_on,
    )


def parse_answers(form: dict[str, str]) -> Answers:
    """The form's answers, or ``InvalidInput`` naming each field that is wrong."""
    problems = InvalidInput()

    def number(name: str, low: int, high: int) -> int:
        raw = form.get(name, "").strip()
        if not raw:
            problems.add(name, SurveyFieldCode.REQUIRED, "Please choose an answer.")
            return low
        if not raw.isdigit() or not low <= int(raw) <= high:
            problems.add(name, SurveyFieldCode.OUT_OF_RANGE, f"Choose a number from {low} to {high}.")
            return low
        return int(raw)

    overall = number("overall", OVERALL_MIN, OVERALL_MAX)
    recommend = number("recommend", RECOMMEND_MIN, RECOMMEND_MAX)
    wait = form.get("wait", "").strip()
    if wait not in {"yes", "no"}:
        problems.add("wait", SurveyFieldCode.REQUIRED, "Please answer yes or no.")
    comment = form.get("comment", "").strip()
    if len(comment) > MAX_COMMENT:
        problems.add("comment", SurveyFieldCode.TOO_LONG, f"At most {MAX_COMMENT} characters.")
    problems.raise_if_any()
    return Answers(overall=overall, recommend=recommend, wait_acceptable=wait == "yes", comment=comment)


async def answer(
    invitation: records.SurveyInvitation, answers: Answers, audit: AuditTrail, *, now: datetime
) -> bool:
    """Store the one answer of an invitation :func:`open_invitation` gave: False (write nothing)
    when it was answered (or expired) meanwhile."""
    stored = await repository.record_answer(
        invitation,
        overall=answers.overall,
        recommend=answers.recommend,
        wait_acceptable=answers.wait_acceptable,
        comment=answers.comment,
        now=now,
    )
    if not stored:
        return False
    audit.record(
        AuditAction.SURVEY_ANSWERED,
        organization_id=invitation.organization,
        object_type="SurveyInvitation",
        object_id=invitation.id,
    )
    await emit(SurveyAnswered(invitation_id=invitation.id, referral_id=invitation.referral, occurred_at=now))
    return True


# --- what the referral's parties see ------------------------------------------------------------


def survey_of(
    actor: Actor,
    referral: referral_records.ReferralParties,
    invitation: records.SurveyInvitation | None,
    *,
    now: datetime,
) -> SurveyView | None:
    if invitation is None or not access.may_see_survey(actor, referral):
        return None
    if invitation.answered_at is not None:
        state = SurveyState.ANSWERED
    elif invitation.expires_at <= now:
        state = SurveyState.EXPIRED
    else:
        state = SurveyState.INVITED
    return SurveyView(invitation=invitation, state=state)


def link_of(actor: Actor, referral: referral_records.ReferralParties, view: SurveyView) -> str | None:
    """The link to hand over: for the receiving organization's staff, while it can be answered."""
    if view.state is not SurveyState.INVITED or not access.may_hand_over_link(actor, referral):
        return None
    return link_url(view.invitation)


async def read_answer(
    actor: Actor, audit: AuditTrail, referral: referral_records.ReferralParties, view: SurveyView
) -> records.SurveyAnswer | None:
    if view.invitation.answered_at is None or not access.may_see_survey(actor, referral):
        return None
    found = await repository.answer_of(view.invitation)
    if found is not None:
        audit.record(
            AuditAction.SURVEY_ANSWER_READ,
            actor_user_id=actor.user_id,
            organization_id=view.invitation.organization,
            object_type="SurveyInvitation",
            object_id=view.invitation.id,
        )
    return found
