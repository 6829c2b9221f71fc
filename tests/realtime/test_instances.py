"""Two server processes sharing the database and a real Redis: events cross instances, a Redis
outage loses nothing (subscribers recover through the database), shutdown says "reconnect"."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ON_CI
from tests.support.api import CLIENT_LIMITS, Api
from tests.support.processes import AppInstance, RedisServer
from tests.support.referrals import World, referral_in
from tests.support.ws import EVENTS, STREAM_POSITION, connect

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if not RedisServer.available():
        if ON_CI:
            pytest.fail("CI=true and redis-server is not installed")
        pytest.skip("redis-server is not installed (fails when CI=true)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def instances(redis_server: RedisServer) -> Iterator[tuple[AppInstance, AppInstance]]:
    first, second = AppInstance(redis_server.url), AppInstance(redis_server.url)
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()


async def test_an_event_on_one_instance_reaches_a_subscriber_on_the_other_even_across_a_redis_outage(
    world: World, redis_server: RedisServer, instances: tuple[AppInstance, AppInstance]
) -> None:
    first, second = instances
    referral = await referral_in(world, "SENT")
    async with httpx.AsyncClient(base_url=first.base_url, timeout=30, limits=CLIENT_LIMITS) as http:
        on_first = dataclasses.replace(world, api=Api(http, world.api.server))
        position = (await on_first.api.data(STREAM_POSITION, token=world.referrer.token))["streamPosition"]

        # given the referrer subscribed on the second instance
        async with connect(second.ws_url, world.referrer.token) as socket:
            await socket.subscribe("feed", EVENTS, {"after": position})
            await asyncio.sleep(0.3)

            # when the specialist claims the referral through the first instance
            referral = await on_first.step("CLAIM", referral, world.specialist)
            # then the event crosses over through Redis
            [claimed] = await socket.events(1)
            assert (claimed["status"], claimed["sequence"]) == ("IN_REVIEW", position + 1)

            # when Redis dies, changes still succeed
            redis_server.kill()
            referral = await on_first.step("REQUEST_INFO", referral, world.specialist)
            referral = await on_first.step("PROVIDE_INFO", referral, world.referrer)
            referral = await on_first.step("ACCEPT", referral, world.specialist)

            # and once Redis is back, the subscriber recovers every one of them, in order, once
            redis_server.start()
            recovered = await socket.events(3, within=15)
            assert [e["status"] for e in recovered] == ["NEEDS_INFO", "IN_REVIEW", "ACCEPTED"]
            assert [e["sequence"] for e in recovered] == [position + 2, position + 3, position + 4]

            # then live events flow again
            await asyncio.sleep(0.5)
            await on_first.step("SCHEDULE", referral, world.receiving_coordinator)
            live = await socket.events(2, within=10)
            assert [e["sequence"] for e in live] == [position + 5, position + 6]
            await socket.nothing_more()

            # when the second instance shuts down gracefully, the socket is told to reconnect
            second.stop()
            assert await socket.closed_with() == 1012
