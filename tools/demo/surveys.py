"""The demo's post-visit surveys: a few closed visits already answered, and one completed visit
invited (its link printed by ``python -m tools.demo``) for someone to answer in a browser."""

from __future__ import annotations

import random

from backend.core.clock import utcnow
from backend.db import Database
from backend.referrals.lifecycle import Status
from backend.referrals.tables import Referral
from backend.surveys import repository, service

ANSWERED = 6
COMMENTS = (
    "Quick appointment and a clear explanation.",
    "The wait felt long, but the specialist was great.",
    "",
    "Parking was hard to find.",
)


async def answer_demo_surveys(database: Database) -> int:
    """Invite and answer the surveys of the ANSWERED most recently closed visits, as their
    patients would have (written like the rest of the seed: no audit entries; idempotent, an
    answered invitation takes no second answer)."""
    rng = random.Random(2026)  # noqa: S311 - demo answers, not secrets
    answered = 0
    async with database.unit_of_work():
        rows = (
            await Referral.select(Referral.id)
            .where(Referral.status == Status.CLOSED.value)
            .order_by(Referral.status_changed_at, ascending=False)
            .limit(ANSWERED)
        )
        for row in rows:
            invitation = await service.invite(row["id"], now=utcnow())
            if invitation is None:
                continue
            answered += await repository.record_answer(
                invitation,
                overall=rng.choice((3, 4, 4, 5, 5)),
                recommend=rng.choice((6, 8, 9, 9, 10)),
                wait_acceptable=rng.random() < 0.7,
                comment=rng.choice(COMMENTS),
                now=utcnow(),
            )
    return answered


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
