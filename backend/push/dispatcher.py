"""The dispatcher: sends due outbox rows, at least once per row and device, retrying per FCM.

    loop (in-process task in the embedded default; `python -m backend worker` in production):
      claim up to BATCH due rows in one committed statement (a lease of LEASE seconds; on
          PostgreSQL FOR UPDATE SKIP LOCKED, so several dispatchers never take the same row)
      ─► tokens of their devices (a row whose device is gone is SKIPPED)
      ─► Sender.send: FCM through firebase-admin, CONCURRENCY requests in flight
      ─► outcomes recorded as they come (one unit of work for all that arrived meanwhile):
            SENT                      sent_at, FCM message name
            UNREGISTERED              row FAILED, the device (token) deleted, its other rows SKIPPED
            INVALID_ARGUMENT, …       row FAILED, never retried (logged without payload)
            QUOTA_EXCEEDED, 5xx, token endpoint or network trouble
                                      next attempt at max(Retry-After, backoff with jitter),
                                      persisted; after MAX_ATTEMPTS the row is FAILED (parked)
      ─► no due row: sleep until woken (a commit that wrote rows) or the next due time

A process that dies mid-batch leaves its rows claimed: when the lease expires another pass takes
them again. A row is marked SENT only after FCM answered 200, so a push can be repeated only if
the process died between FCM's answer and the record (FCM has no idempotency key); collapse keys
make a repeated referral ping harmless.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backend.core import leases
from backend.core.clock import utcnow
from backend.db import Database
from backend.logging import get_logger
from backend.push import repository
from backend.push.codes import FailReason, OutboxStatus, SkipReason
from backend.push.sender import Delivery, Outcome, Sender, Verdict

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch: int = 200
    lease_seconds: float = 60.0
    max_attempts: int = 6
    base_backoff_seconds: float = 2.0
    max_backoff_seconds: float = 600.0
    idle_poll_seconds: float = 1.0


@dataclass(slots=True)
class DispatchCounters:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    parked: int = 0
    unregistered: int = 0
    skipped: int = 0


@dataclass(slots=True)
class Dispatcher:
    database: Database
    sender: Sender
    settings: DispatchSettings = field(default_factory=DispatchSettings)
    counters: DispatchCounters = field(default_factory=DispatchCounters)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _rng: random.Random = field(default_factory=random.Random)

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """One batch: claim, send, record. Returns how many rows it claimed."""
        now = utcnow()
        async with self.database.unit_of_work() as uow:
            claimed = await repository.claim_due(
                now=now,
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch,
                is_sqlite=uow.is_sqlite,
            )
            tokens = await repository.tokens_of_devices([r["device"] for r in claimed if r["device"]])
        if not claimed:
            return 0
        deliveries, orphans = [], []
        for row in claimed:
            device = tokens.get(row["device"]) if row["device"] else None
            if device is None:
                orphans.append(row)
                continue
            deliveries.append(Delivery(row["id"], device.token, device.locale, _message(row)))
        attempts = {row["id"]: int(row["attempts"]) for row in claimed}
        devices = {row["id"]: row["device"] for row in claimed}
        if orphans:
            async with self.database.unit_of_work():
                for row in orphans:
                    await repository.mark_done(
                        row["id"], OutboxStatus.SKIPPED, SkipReason.DEVICE_REMOVED.value
                    )
                    self.counters.skipped += 1
        results: asyncio.Queue[tuple[Delivery, Outcome] | None] = asyncio.Queue()
        recorder = asyncio.create_task(self._recorder(results, attempts, devices))
        try:
            async for result in self.sender.send(deliveries):
                results.put_nowait(result)
        finally:
            results.put_nowait(None)
            await recorder
        return len(claimed)

    async def _recorder(
        self,
        results: asyncio.Queue[tuple[Delivery, Outcome] | None],
        attempts: dict[Any, int],
        devices: dict[Any, Any],
    ) -> None:
        """Record outcomes as soon as FCM gives them, all that arrived meanwhile in one unit of
        work: the sooner a SENT is recorded, the smaller the window in which a crash would make
        a push go out twice."""
        finished = False
        while not finished:
            item = await results.get()
            batch = []
            while item is not None:
                batch.append(item)
                if results.empty():
                    break
                item = results.get_nowait()
            finished = item is None
            if batch:
                await self._record_all(batch, attempts, devices)

    async def _record_all(
        self, done: list[tuple[Delivery, Outcome]], attempts: dict[Any, int], devices: dict[Any, Any]
    ) -> None:
        """Every SENT in one statement, then each failure on its own."""
        async with self.database.unit_of_work() as uow:
            sent = [(d.row_id, outcome.name) for d, outcome in done if outcome.verdict is Verdict.SENT]
            await repository.mark_sent_many(sent, now=utcnow(), is_sqlite=uow.is_sqlite)
            self.counters.sent += len(sent)
            for delivery, outcome in done:
                if outcome.verdict is not Verdict.SENT:
                    await self._record(delivery, outcome, attempts[delivery.row_id], devices[delivery.row_id])

    async def _record(self, delivery: Delivery, outcome: Outcome, attempts: int, device_uuid: object) -> None:
        """A failed send: FAILED (UNREGISTERED prunes the device), parked, or rescheduled."""
        now = utcnow()
        if outcome.verdict is Verdict.FAILED:
            await repository.mark_done(delivery.row_id, OutboxStatus.FAILED, outcome.reason)
            self.counters.failed += 1
            if outcome.reason == FailReason.UNREGISTERED.value and device_uuid is not None:
                await repository.delete_device_by_id(device_uuid)  # type: ignore[arg-type]
                self.counters.unregistered += 1
            else:
                logger.warning("push.rejected", reason=outcome.reason, row_id=str(delivery.row_id))
            return
        if attempts >= self.settings.max_attempts:
            exhausted = FailReason.ATTEMPTS_EXHAUSTED.value
            await repository.mark_done(delivery.row_id, OutboxStatus.FAILED, exhausted)
            self.counters.parked += 1
            logger.warning(
                "push.parked", reason=outcome.reason, row_id=str(delivery.row_id), attempts=attempts
            )
            return
        await repository.reschedule(
            delivery.row_id, at=now + timedelta(seconds=self._delay(attempts, outcome)), reason=outcome.reason
        )
        self.counters.retried += 1

    def _delay(self, attempts: int, outcome: Outcome) -> float:
        """Exponential backoff with full jitter, never sooner than FCM's Retry-After."""
        settings = self.settings
        delay = leases.backoff_seconds(
            self._rng, attempts, base=settings.base_backoff_seconds, ceiling=settings.max_backoff_seconds
        )
        if outcome.retry_after is not None:
            delay = max(delay, outcome.retry_after)
        return delay

    async def run(self) -> None:
        """Dispatch forever: batches while rows are due, then sleep until woken or due."""

        async def next_due_at() -> datetime | None:
            async with self.database.unit_of_work():
                return await repository.next_due_at()

        await leases.dispatch_forever(
            self.run_once,
            next_due_at,
            self._wake,
            idle_poll_seconds=self.settings.idle_poll_seconds,
            failed="push.dispatch_failed",
        )


def _message(row: dict[str, object]) -> dict[str, object]:
    import json

    message = row["message"]
    if isinstance(message, str):
        loaded: dict[str, object] = json.loads(message)
        return loaded
    assert isinstance(message, dict)
    return message
