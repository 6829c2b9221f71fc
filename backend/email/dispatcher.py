"""The e-mail dispatcher: sends due outbox rows, at least once each, retrying with backoff.

loop (in-process task by default; `python -m backend worker` too):
  claim up to BATCH due rows (backend/core/leases.py: a lease, FOR UPDATE SKIP LOCKED on
      PostgreSQL, so several dispatchers never take the same row)
  ─► open each (address, subject, body sealed under the row's data key)
  ─► Sender.send one after the other on one SMTP connection
  ─► record each outcome in its own unit of work, as soon as it is known:
        SENT      sent_at; the sealed content blanked
        FAILED    the server refused it (5xx), or it does not decrypt: never retried
        RETRY     next attempt after backoff with jitter; after MAX_ATTEMPTS FAILED (parked)
  ─► no due row: sleep until woken (a commit that queued one) or the next due time
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from backend.core import leases
from backend.core.clock import utcnow
from backend.crypto.envelope import DecryptionFailed
from backend.db import Database
from backend.email import repository
from backend.email.codes import EmailFailReason
from backend.email.sender import Sender, Verdict
from backend.logging import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch: int = 50
    lease_seconds: float = 120.0
    max_attempts: int = 8
    base_backoff_seconds: float = 30.0
    max_backoff_seconds: float = 3600.0
    idle_poll_seconds: float = 5.0


@dataclass(slots=True)
class DispatchCounters:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    parked: int = 0


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
        async with self.database.unit_of_work() as uow:
            claimed = await repository.claim_due(
                now=utcnow(),
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=self.settings.batch,
                is_sqlite=uow.is_sqlite,
            )
        try:
            for row in claimed:
                try:
                    email = repository.opened(row)
                except DecryptionFailed:
                    async with self.database.unit_of_work():
                        await repository.mark_failed(row["id"], EmailFailReason.UNREADABLE.value)
                    self.counters.failed += 1
                    continue
                outcome = await self.sender.send(email)
                async with self.database.unit_of_work():
                    if outcome.verdict is Verdict.SENT:
                        await repository.mark_sent(email.row_id, now=utcnow())
                        self.counters.sent += 1
                    elif outcome.verdict is Verdict.FAILED:
                        await repository.mark_failed(
                            email.row_id, outcome.reason or EmailFailReason.REJECTED.value
                        )
                        self.counters.failed += 1
                        logger.warning("email.rejected", reason=outcome.reason, row_id=str(email.row_id))
                    elif email.attempts >= self.settings.max_attempts:
                        await repository.mark_failed(email.row_id, EmailFailReason.ATTEMPTS_EXHAUSTED.value)
                        self.counters.parked += 1
                        logger.warning("email.parked", reason=outcome.reason, row_id=str(email.row_id))
                    else:
                        delay = self._delay(email.attempts)
                        await repository.reschedule(
                            email.row_id, at=utcnow() + timedelta(seconds=delay), reason=outcome.reason or ""
                        )
                        self.counters.retried += 1
        finally:
            await self.sender.close()
        return len(claimed)

    def _delay(self, attempts: int) -> float:
        """Exponential backoff with full jitter."""
        settings = self.settings
        return leases.backoff_seconds(
            self._rng, attempts, base=settings.base_backoff_seconds, ceiling=settings.max_backoff_seconds
        )

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
            failed="email.dispatch_failed",
        )
