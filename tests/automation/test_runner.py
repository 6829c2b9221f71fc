"""The runner under concurrency and crashes: every due step fires exactly once, whichever of
several processes claims it, and a runner that dies after claiming loses nothing."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from backend.automation import repository
from backend.automation.codes import StepStatus
from backend.automation.runner import Runner
from backend.automation.tables import AutomationStep
from backend.realtime.tables import StreamEvent
from backend.referrals.tables import ReferralEvent
from backend.settings import AutomationSettings
from tests.conftest import TEST_DATABASE, LiveServer
from tests.support.graphql_ids import uuid_of
from tests.support.processes import AppInstance, WorkerProcess
from tests.support.push import new_token, register
from tests.support.referrals import World
from tools.fake_fcm import FakeFcm

REFERRALS = 24


async def _due_reminders(world: World, count: int) -> list[UUID]:
    """``count`` sent STAT referrals whose first reminder came due a second ago."""
    ids = []
    for _ in range(count):
        sent = await world.step("SEND", await world.draft(priority="STAT"), world.referrer)
        ids.append(UUID(uuid_of(sent["id"])))
    await AutomationStep.update({AutomationStep.due_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
        AutomationStep.referral.is_in(ids)
        & (AutomationStep.rule == "RESPOND_REMINDER")
        & (AutomationStep.rung == 0)
    )
    return ids


async def _fired(ids: list[UUID]) -> int:
    return await AutomationStep.count().where(
        AutomationStep.referral.is_in(ids) & (AutomationStep.status == StepStatus.FIRED.value)
    )


async def _reminders_on_timelines(ids: list[UUID]) -> dict[UUID, int]:
    rows = await ReferralEvent.select(ReferralEvent.referral).where(
        ReferralEvent.referral.is_in(ids) & (ReferralEvent.action == "REMIND")
    )
    counts = dict.fromkeys(ids, 0)
    for row in rows:
        counts[row["referral"]] += 1
    return counts


@pytest.mark.skipif(
    TEST_DATABASE != "postgres", reason="several processes claim with SKIP LOCKED: PostgreSQL's"
)
async def test_two_instances_and_a_worker_fire_every_due_step_exactly_once(
    world: World, fake_fcm: FakeFcm
) -> None:
    # given a specialist's phone and due reminders on many referrals
    session = await world.api.login(
        world.specialist.user.email, world.specialist.user.password, device_id="p1"
    )
    phone = new_token()
    await register(world.api, session.access, phone)
    ids = await _due_reminders(world, REFERRALS)
    # when two app instances and a worker all run the ladder at once
    fast = {"AUTOMATION_IN_PROCESS": "true", "AUTOMATION_TICK_MS": "20", "AUTOMATION_BATCH": "3"}
    instances = [AppInstance(os.environ.get("REDIS_URL"), **fast) for _ in range(2)]
    worker = WorkerProcess(**fast)
    try:
        for process in (*instances, worker):
            process.start()
        for _ in range(600):
            if await _fired(ids) == REFERRALS:
                break
            await asyncio.sleep(0.05)
        for _ in range(1200):  # the worker's dispatcher also drains what earlier tests left queued
            if len(_reminders(fake_fcm, phone)) >= REFERRALS:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
    finally:
        for process in (*instances, worker):
            process.stop()
    # then every step fired once: one timeline entry, one stream event per recipient, one push each
    assert await _fired(ids) == REFERRALS
    assert set((await _reminders_on_timelines(ids)).values()) == {1}
    events = await StreamEvent.select(StreamEvent.user, StreamEvent.referral).where(
        StreamEvent.referral.is_in(ids) & (StreamEvent.type == "AUTOMATION_STEP_FIRED")
    )
    per_recipient: dict[tuple[Any, Any], int] = {}
    for event in events:
        key = (event["user"], event["referral"])
        per_recipient[key] = per_recipient.get(key, 0) + 1
    assert per_recipient and set(per_recipient.values()) == {1}
    assert {referral for _, referral in per_recipient} == set(ids)
    reminded = sorted(s.message["data"]["referralId"] for s in _reminders(fake_fcm, phone))
    assert len(reminded) == REFERRALS
    assert reminded == sorted(set(reminded))


def _reminders(fake_fcm: FakeFcm, phone: str) -> list[Any]:
    return [s for s in fake_fcm.received(phone) if s.message["data"]["type"] == "REFERRAL_REMINDER"]


async def test_a_runner_that_dies_after_claiming_loses_and_repeats_nothing(
    world: World, live_server: LiveServer
) -> None:
    # given due reminders, claimed by a runner that then dies before firing any
    ids = await _due_reminders(world, 5)
    database = live_server.container.database
    now = datetime.now(UTC)
    lease = timedelta(seconds=30)
    async with database.unit_of_work() as uow:
        claimed = await repository.claim_due(now=now, lease=lease, limit=100, is_sqlite=uow.is_sqlite)
    assert {step.referral for step in claimed} >= set(ids)
    survivor = Runner(database, AutomationSettings(lease_seconds=30))
    # when another runner ticks while the lease holds, then after it expired, twice
    await survivor.run_once(now=now + timedelta(seconds=1))
    fired_during_lease = await _fired(ids)
    await survivor.run_once(now=now + lease + timedelta(seconds=1))
    await survivor.run_once(now=now + lease + timedelta(seconds=2))
    # then nothing fired under the dead runner's lease, and afterwards each step fired once
    assert fired_during_lease == 0
    assert await _fired(ids) == 5
    assert set((await _reminders_on_timelines(ids)).values()) == {1}


async def test_an_idle_tick_claims_nothing_in_one_statement(world: World, live_server: LiveServer) -> None:
    # given open referrals whose steps are not due
    for _ in range(3):
        await world.step("SEND", await world.draft(priority="ROUTINE"), world.referrer)
    # when the runner ticks with nothing due, then it claims nothing (and costs one statement)
    from backend.db import STATEMENTS

    before = STATEMENTS.count
    claimed = await Runner(live_server.container.database).run_once(
        now=datetime.now(UTC) - timedelta(days=400)
    )
    assert claimed == 0
    assert STATEMENTS.count - before == 1
