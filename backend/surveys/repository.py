"""Every survey query. The comment is sealed and opened here (under the referral's data key)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from backend.referrals import repository as referrals
from backend.surveys import records
from backend.surveys.tables import SurveyInvitation

INVITATION_COLUMNS = (
    SurveyInvitation.id,
    SurveyInvitation.referral,
    SurveyInvitation.organization,
    SurveyInvitation.delivery,
    SurveyInvitation.salt,
    SurveyInvitation.secret_digest,
    SurveyInvitation.visit_on,
    SurveyInvitation.created_at,
    SurveyInvitation.expires_at,
    SurveyInvitation.answered_at,
)


def comment_field(invitation_id: UUID) -> str:
    """The envelope field of a survey comment (bound to its invitation)."""
    return f"survey:{invitation_id}:comment"


async def insert_invitation(
    *,
    invitation_id: UUID,
    referral_id: UUID,
    organization_id: UUID,
    delivery: str,
    salt: str,
    secret_digest: str,
    visit_on: date | None,
    created_at: datetime,
    expires_at: datetime,
) -> records.SurveyInvitation | None:
    """The new invitation; None when the referral already has one (a concurrent invite)."""
    rows = (
        await SurveyInvitation.insert(
            SurveyInvitation(
                id=invitation_id,
                referral=referral_id,
                organization=organization_id,
                delivery=delivery,
                salt=salt,
                secret_digest=secret_digest,
                visit_on=visit_on,
                created_at=created_at,
                expires_at=expires_at,
            )
        )
        .on_conflict(target=SurveyInvitation.referral, action="DO NOTHING")
        .returning(*INVITATION_COLUMNS)
    )
    return records.SurveyInvitation(**rows[0]) if rows else None


async def invitation_by_id(invitation_id: UUID) -> records.SurveyInvitation | None:
    row = (
        await SurveyInvitation.select(*INVITATION_COLUMNS).where(SurveyInvitation.id == invitation_id).first()
    )
    return records.SurveyInvitation(**row) if row else None


async def invitation_of_referral(referral_id: UUID) -> records.SurveyInvitation | None:
    return (await invitations_of_referrals([referral_id])).get(referral_id)


async def invitations_of_referrals(referral_ids: Sequence[UUID]) -> dict[UUID, records.SurveyInvitation]:
    if not referral_ids:
        return {}
    rows = await SurveyInvitation.select(*INVITATION_COLUMNS).where(
        SurveyInvitation.referral.is_in(list(referral_ids))
    )
    return {row["referral"]: records.SurveyInvitation(**row) for row in rows}


async def record_answer(
    invitation: records.SurveyInvitation,
    *,
    overall: int,
    recommend: int,
    wait_acceptable: bool,
    comment: str,
    now: datetime,
) -> bool:
    """Store the answer once: False when the invitation was answered (or expired) meanwhile."""
    sealed = ""
    if comment:
        sealed = await referrals.seal_text(invitation.referral, comment_field(invitation.id), comment) or ""
        # a referral from before encryption has no key: the comment is then not stored at all
    rows = (
        await SurveyInvitation.update(
            {
                SurveyInvitation.answered_at: now,
                SurveyInvitation.overall: overall,
                SurveyInvitation.recommend: recommend,
                SurveyInvitation.wait_acceptable: wait_acceptable,
                SurveyInvitation.comment: sealed,
            }
        )
        .where(
            (SurveyInvitation.id == invitation.id)
            & SurveyInvitation.answered_at.is_null()
            & (SurveyInvitation.expires_at > now)
        )
        .returning(SurveyInvitation.id)
    )
    return bool(rows)


async def answer_of(invitation: records.SurveyInvitation) -> records.SurveyAnswer | None:
    row: dict[str, Any] | None = (
        await SurveyInvitation.select(
            SurveyInvitation.overall,
            SurveyInvitation.recommend,
            SurveyInvitation.wait_acceptable,
            SurveyInvitation.comment,
            SurveyInvitation.answered_at,
        )
        .where((SurveyInvitation.id == invitation.id) & SurveyInvitation.answered_at.is_not_null())
        .first()
    )
    if row is None:
        return None
    (row["comment"],) = await referrals.open_texts(
        [(invitation.referral, comment_field(invitation.id), row["comment"])]
    )
    return records.SurveyAnswer(**row)
