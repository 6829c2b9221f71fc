"""The demo's post-visit survey: one referral whose visit is completed gets its invitation."""

from __future__ import annotations

from backend.core.clock import utcnow
from backend.db import Database
from backend.referrals.lifecycle import Status
from backend.referrals.tables import Referral
from backend.surveys import service


async def invite_demo_survey(database: Database) -> str | None:
    """The link of the demo survey (created on first call), or None without a completed visit."""
    async with database.unit_of_work():
        row = (
            await Referral.select(Referral.id)
            .where(Referral.status == Status.VISIT_COMPLETED.value)
            .order_by(Referral.status_changed_at, ascending=False)
            .first()
        )
        if row is None:
            return None
        invitation = await service.invite(row["id"], now=utcnow())
        return service.link_url(invitation) if invitation else None
