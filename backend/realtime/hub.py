"""This process's live subscribers, and the hand-off from the bus to them.

    bus message ──► Hub.deliver ──► each Subscription of each recipient: offer(sequence, event)
    subscription consumer (one task per socket operation):
        replay from the database after the client's last sequence, then live items:
        seq <= last: already sent (drop) · seq == last + 1: send · seq > last + 1: a gap, so read
        the database from last (the truth) and continue
        sequence 0 (EPHEMERAL_SEQUENCE): a typing indicator, shown at once, never stored

Subscriptions come in families: referral events, conversation events, typing indicators. A
user's every subscription is offered each of the user's events and keeps to its own (``wants``).

Items are (sequence, shared event dict): one decoded event is shared by every subscriber. A
subscriber whose backlog passes ``max_backlog`` is marked overflowed and its socket is closed
(the client resumes from its last sequence), so a stalled reader cannot grow memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from uuid import UUID

from backend.realtime.events import TYPING, StreamMessage

Event = dict[str, Any]


class AccessWatcher(Protocol):
    """A socket that re-checks its user's session and access when told to."""

    @property
    def user_id(self) -> UUID: ...

    def access_changed(self) -> None: ...

    def tick(self, now: float) -> None: ...


REFERRAL_FAMILY = "referral"
CHAT_FAMILY = "chat"
TYPING_FAMILY = "typing"


class Subscription:
    __slots__ = (
        "_signalled",
        "_waiter",
        "family",
        "items",
        "last_sequence",
        "max_backlog",
        "needs_resync",
        "on_overflow",
        "overflowed",
        "scope",
        "user_id",
    )

    def __init__(
        self,
        user_id: UUID,
        after: int,
        family: str,
        scope: str | None,
        *,
        max_backlog: int,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.user_id = user_id
        self.on_overflow = on_overflow
        self.last_sequence = after
        self.family = family
        self.scope = scope
        self.max_backlog = max_backlog
        self.items: list[tuple[int, Event]] = []  # small and short-lived: cheaper than a deque
        self.overflowed = False
        self.needs_resync = False
        self._signalled = False
        self._waiter: asyncio.Future[None] | None = None  # created only while the consumer waits

    def offer(self, sequence: int, event: Event) -> None:
        if self.overflowed:
            return
        if len(self.items) >= self.max_backlog:
            self.overflowed = True
            self.items.clear()
            if self.on_overflow is not None:
                self.on_overflow()
        else:
            self.items.append((sequence, event))
        self._signal()

    def resync(self) -> None:
        self.needs_resync = True
        self._signal()

    def take(self) -> list[tuple[int, Event]]:
        items, self.items = self.items, []
        return items

    def _signal(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        else:
            self._signalled = True

    def ready(self) -> asyncio.Future[None]:
        """Resolved once something was offered or a resync asked since the last call (a plain
        future, not a coroutine: one frame less per idle subscription)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._signalled:
            waiter.set_result(None)
        else:
            self._waiter = waiter
        self._signalled = False
        return waiter

    def wants(self, event: Event) -> bool:
        """Whether this subscription shows ``event`` (every subscription of a user is offered
        every event of that user: each family keeps to its own kind, within its scope)."""
        conversation_id = event.get("conversationId")
        if self.family is TYPING_FAMILY:
            return event["type"] == TYPING and conversation_id == self.scope
        if event["type"] == TYPING:
            return False
        if self.family is CHAT_FAMILY:
            return conversation_id is not None and (self.scope is None or conversation_id == self.scope)
        return conversation_id is None and (self.scope is None or event.get("referralId") == self.scope)


class Hub:
    def __init__(self) -> None:
        # lists, not sets: a user has one or two of each, and an empty set alone is 216 bytes
        self._subscriptions: dict[UUID, list[Subscription]] = {}
        self._watchers: dict[UUID, list[AccessWatcher]] = {}

    def subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.setdefault(subscription.user_id, []).append(subscription)

    def unsubscribe(self, subscription: Subscription) -> None:
        _discard(self._subscriptions, subscription.user_id, subscription)

    def watch(self, watcher: AccessWatcher) -> None:
        self._watchers.setdefault(watcher.user_id, []).append(watcher)

    def unwatch(self, watcher: AccessWatcher) -> None:
        _discard(self._watchers, watcher.user_id, watcher)

    def deliver(self, messages: Iterable[StreamMessage]) -> None:
        for message in messages:
            for user_id, sequence in message.sequences.items():
                for subscription in self._subscriptions.get(user_id, ()):
                    subscription.offer(sequence, message.event)

    def access_changed(self, user_ids: Iterable[UUID]) -> None:
        for user_id in user_ids:
            for watcher in list(self._watchers.get(user_id, ())):
                watcher.access_changed()

    def resync_all(self) -> None:
        """After the bus may have lost messages: every subscriber re-reads the database."""
        for subscriptions in self._subscriptions.values():
            for subscription in subscriptions:
                subscription.resync()

    async def housekeep(self, interval: float = 1.0) -> None:
        """Tick every watched socket about once per ``interval`` (pings, expiry, re-checks)."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            for watchers in list(self._watchers.values()):
                for watcher in list(watchers):
                    watcher.tick(now)

    @property
    def subscription_count(self) -> int:
        return sum(len(s) for s in self._subscriptions.values())


def _discard(index: dict[UUID, list[Any]], key: UUID, item: Any) -> None:
    found = index.get(key)
    if found is not None and item in found:
        found.remove(item)
        if not found:
            del index[key]
