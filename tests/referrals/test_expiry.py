"""The system expires referrals whose validity window passed with no visit."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID

from backend.referrals.tables import Referral
from backend.settings import ReferralSettings, get_settings
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


async def test_each_server_expires_stale_referrals_by_itself(world: World) -> None:
    from backend.app import create_app
    from tests.support.api import in_loop_client

    # given an accepted referral past its validity window
    stale = await referral_in(world, "ACCEPTED")
    await Referral.update({Referral.expires_at: datetime.now(UTC) - timedelta(days=1)}).where(
        Referral.id == UUID(uuid_of(stale["id"]))
    )
    # when a server runs with a short expiry interval (no cron job)
    settings = dataclasses.replace(get_settings(), referrals=ReferralSettings(expiry_interval_seconds=0.05))
    async with in_loop_client(create_app(settings)):
        status = None
        for _ in range(100):
            found = await world.read(stale["id"], world.referrer)
            status = found["status"] if found else None
            if status == "EXPIRED":
                break
            await asyncio.sleep(0.05)
    # then the referral expired without anyone running the command
    assert status == "EXPIRED"
