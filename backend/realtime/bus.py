"""The bus: how an event committed by one process reaches subscribers in every process.

``InProcessBus`` (embedded default) hands events straight to this process's hub.
``RedisBus`` (when ``REDIS_URL`` is set) also publishes them on one channel (``REDIS_CHANNEL``;
Redis pub/sub ignores database numbers, so deployments sharing a Redis need their own); each keeps
one pub/sub connection and hands what other processes published to its hub. Redis is only the
wake-up: when the pub/sub connection comes back after a failure, every local subscriber re-reads
the database, so what Redis dropped meanwhile is recovered from the event table.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any
from uuid import UUID

import msgspec

from backend.logging import get_logger
from backend.realtime.events import StreamMessage
from backend.realtime.hub import Hub

logger = get_logger(__name__)
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


class InProcessBus:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish_events(self, messages: list[StreamMessage]) -> None:
        self.hub.deliver(messages)

    async def publish_access_changed(self, user_ids: list[UUID]) -> None:
        self.hub.access_changed(user_ids)


class RedisBus:
    def __init__(self, hub: Hub, redis: Any, channel: str) -> None:
        self.hub = hub
        self.redis = redis
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder()
        self.subscribed = asyncio.Event()
        self._ever_subscribed = False

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="careloop-redis-bus")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def publish_events(self, messages: list[StreamMessage]) -> None:
        self.hub.deliver(messages)
        await self._publish(
            {
                "kind": "events",
                "messages": [
                    {"event": m.event, "sequences": {str(u): s for u, s in m.sequences.items()}}
                    for m in messages
                ],
            }
        )

    async def publish_access_changed(self, user_ids: list[UUID]) -> None:
        self.hub.access_changed(user_ids)
        await self._publish({"kind": "access", "users": [str(u) for u in user_ids]})

    async def _publish(self, body: dict[str, Any]) -> None:
        try:
            await self.redis.publish(self.channel, self._encoder.encode({**body, "origin": self.origin}))
        except Exception as error:  # the change is committed; other processes resync on reconnect
            logger.warning("realtime.redis_publish_failed", error_type=type(error).__name__)

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        # the first subscription, or one renewed after a lost connection: the
                        # latter may have missed messages, so every subscriber re-reads the database
                        if self._ever_subscribed:
                            self.hub.resync_all()
                        self._ever_subscribed = True
                        self.subscribed.set()
                        attempt = 0
                    elif message["type"] == "message":
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning("realtime.redis_listen_failed", error_type=type(error).__name__)
                await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
                attempt += 1
                self.subscribed.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _dispatch(self, data: bytes) -> None:
        body = self._decoder.decode(data)
        if body.get("origin") == self.origin:
            return
        if body.get("kind") == "events":
            self.hub.deliver(
                StreamMessage(event=m["event"], sequences={UUID(u): s for u, s in m["sequences"].items()})
                for m in body["messages"]
            )
        elif body.get("kind") == "access":
            self.hub.access_changed(UUID(u) for u in body["users"])
