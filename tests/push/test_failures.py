"""FCM's error contract, scripted on the fake: pruning, retries with Retry-After, parking."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from backend.push.tables import PushDevice, PushOutbox
from tests.support.push import assert_valid, new_token, register, wait_for
from tests.support.referrals import World
from tools.fake_fcm import FakeFcm


async def _specialist_device(world: World) -> str:
    token = new_token()
    session = await world.api.login(
        world.specialist.user.email, world.specialist.user.password, device_id="pager"
    )
    await register(world.api, session.access, token, platform="ANDROID")
    return token


async def test_unregistered_deletes_the_token_and_is_not_retried(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    token = await _specialist_device(world)
    fake_fcm.script(token, {"error": "UNREGISTERED"})
    await world.step("SEND", await world.draft(), world.referrer)
    [push] = await wait_for(fake_fcm, token)
    assert push.outcome == "rejected"
    await asyncio.sleep(0.5)
    assert await PushDevice.count().where(PushDevice.token == token) == 0
    # and a later referral no longer tries that token
    await world.step("SEND", await world.draft(), world.referrer)
    await asyncio.sleep(0.8)
    assert len(fake_fcm.received(token)) == 1


async def test_quota_and_unavailable_are_retried_no_sooner_than_retry_after_then_delivered(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    token = await _specialist_device(world)
    fake_fcm.script(
        token, {"error": "QUOTA_EXCEEDED", "retry_after": 1}, {"error": "UNAVAILABLE", "retry_after": 1}
    )
    await world.step("SEND", await world.draft(), world.referrer)
    sends = await wait_for(fake_fcm, token, 3, within=15)
    assert [s.outcome for s in sends] == ["rejected", "rejected", "delivered"]
    gaps = [later.received_at - earlier.received_at for earlier, later in itertools.pairwise(sends)]
    assert all(gap >= 1.0 for gap in gaps), gaps
    assert_valid(sends[-1].message)
    first, last = sends[0].message, sends[-1].message  # the same push, retried
    assert (first["data"], first["apns"]) == (last["data"], last["apns"])


async def test_invalid_argument_is_not_retried(world: World, fake_fcm: FakeFcm, dispatcher: Any) -> None:
    token = await _specialist_device(world)
    fake_fcm.script(token, {"error": "INVALID_ARGUMENT"})
    await world.step("SEND", await world.draft(), world.referrer)
    await wait_for(fake_fcm, token)
    await asyncio.sleep(1.0)
    assert len(fake_fcm.received(token)) == 1
    [row] = await PushOutbox.select(PushOutbox.status, PushOutbox.reason).where(
        PushOutbox.device.is_in(PushDevice.select(PushDevice.id).where(PushDevice.token == token))
    )
    assert (row["status"], row["reason"]) == ("FAILED", "INVALID_ARGUMENT")


async def test_a_push_that_keeps_failing_is_parked_after_the_attempt_limit(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    token = await _specialist_device(world)
    fake_fcm.script(token, *({"error": "INTERNAL"} for _ in range(10)))
    await world.step("SEND", await world.draft(), world.referrer)
    sends = await wait_for(fake_fcm, token, 4, within=20)
    await asyncio.sleep(2.0)
    assert len(fake_fcm.received(token)) == 4  # PUSH_MAX_ATTEMPTS in the test settings
    [row] = await PushOutbox.select(PushOutbox.status, PushOutbox.reason, PushOutbox.attempts).where(
        PushOutbox.device.is_in(PushDevice.select(PushDevice.id).where(PushDevice.token == token))
    )
    assert (row["status"], row["reason"], row["attempts"]) == ("FAILED", "ATTEMPTS_EXHAUSTED", 4)
    assert dispatcher.counters.parked >= 1
    assert all(s.outcome == "rejected" for s in sends)


async def test_a_failing_token_endpoint_is_retried_like_a_failed_send(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    token = await _specialist_device(world)
    fake_fcm.revoke_tokens()
    fake_fcm.fail_token_requests(1, status=400)
    await world.step("SEND", await world.draft(), world.referrer)
    [push] = await wait_for(fake_fcm, token, within=15)
    assert push.delivered
