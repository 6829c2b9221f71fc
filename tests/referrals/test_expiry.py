"""The system expires referrals whose validity window passed with no visit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from backend.referrals.tables import Referral
from tests.support.graphql_ids import uuid_of
from tests.support.processes import run_backend_command
from tests.support.referrals import MUTATIONS, World, referral_in


async def test_the_expire_job_expires_only_referrals_past_their_window(world: World) -> None:
    # given an accepted referral past its validity window, and another still within it
    stale = await referral_in(world, "ACCEPTED")
    fresh = await referral_in(world, "ACCEPTED")
    await Referral.update({Referral.expires_at: datetime.now(UTC) - timedelta(days=1)}).where(
        Referral.id == UUID(uuid_of(stale["id"]))
    )

    # when the job runs
    result = await run_backend_command("referrals", "expire")

    # then the stale one is EXPIRED with a system event, and the fresh one is untouched
    assert result.returncode == 0, result.stderr
    expired = await world.read(stale["id"], world.referrer)
    assert expired is not None
    assert expired["status"] == "EXPIRED"
    assert expired["allowedActions"] == []
    assert expired["timeline"][-1] == {
        **expired["timeline"][-1],
        "action": "EXPIRE",
        "fromStatus": "ACCEPTED",
        "actorName": None,
    }
    untouched = await world.read(fresh["id"], world.referrer)
    assert untouched is not None
    assert untouched["status"] == "ACCEPTED"

    # and no action is possible on the expired referral any more, for anyone
    for action in MUTATIONS:
        for person in (
            world.referrer,
            world.referring_coordinator,
            world.specialist,
            world.receiving_coordinator,
        ):
            refused = await world.act(action, expired, person)
            assert refused["code"] == "ILLEGAL_TRANSITION", (action, refused)
            assert refused["currentStatus"] == "EXPIRED"
