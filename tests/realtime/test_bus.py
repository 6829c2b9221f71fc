"""The Redis bus keeps to its channel: deployments sharing one Redis (pub/sub ignores database
numbers) hear only their own realtime events."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from backend.realtime.bus import RedisBus
from backend.realtime.hub import Hub
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.redis


class Watcher:
    """A socket's side of the hub's access protocol, recording what it was told."""

    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.changed = asyncio.Event()

    def access_changed(self) -> None:
        self.changed.set()

    def tick(self, now: float) -> None:
        return None


class Instance:
    def __init__(self, channel: str) -> None:
        import redis.asyncio as redis

        self.hub = Hub()
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.bus = RedisBus(self.hub, self.redis, channel)

    async def start(self) -> None:
        await self.bus.start()
        await asyncio.wait_for(self.bus.subscribed.wait(), 5)

    async def stop(self) -> None:
        await self.bus.stop()
        await self.redis.aclose()


@pytest.fixture
async def instances() -> AsyncIterator[tuple[Instance, Instance, Instance]]:
    ours, theirs = f"careloop:test:{secrets.token_hex(6)}", f"careloop:test:{secrets.token_hex(6)}"
    started = (Instance(ours), Instance(ours), Instance(theirs))
    for instance in started:
        await instance.start()
    yield started
    for instance in started:
        await instance.stop()


async def test_an_event_reaches_instances_on_its_channel_and_no_other(
    instances: tuple[Instance, Instance, Instance],
) -> None:
    # given two instances of one deployment and one of another deployment on the same Redis,
    # each with a socket of the same user
    first, second, other_deployment = instances
    user_id = uuid.uuid4()
    on_second, on_other = Watcher(user_id), Watcher(user_id)
    second.hub.watch(on_second)
    other_deployment.hub.watch(on_other)

    # when the first instance commits an access change for that user
    await first.bus.publish_access_changed([user_id])

    # then the other instance of its deployment hears it, the other deployment does not
    await asyncio.wait_for(on_second.changed.wait(), 5)
    await asyncio.sleep(0.2)  # the same Redis round trip that reached `second`, and then some
    assert not on_other.changed.is_set()
