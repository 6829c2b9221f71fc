"""Claiming due rows with a lease: the one statement every outbox and timer table shares.

    UPDATE <table> SET claimed_until = now + lease, attempts = attempts + 1
    WHERE id <in the first `limit` PENDING rows due by now, not claimed or their lease expired>
    RETURNING <columns>

Several processes (server instances, workers) run the same claim at once and never take the
same row: on PostgreSQL the ids are locked with ``FOR UPDATE SKIP LOCKED``; on SQLite every
unit of work holds the writer lock. A process that dies mid-batch leaves its rows claimed until
the lease expires, when another pass takes them again.

On PostgreSQL the ids come from an ``ARRAY(SELECT …)`` sub-plan, run once per statement. As
``WHERE id IN (SELECT … LIMIT … FOR UPDATE SKIP LOCKED)`` the planner may run the subquery once
per outer row (a nested-loop semi join, chosen from the table's statistics), and every rescan
skips the rows the statement already updated and locks the next ``limit``: one claim then took
every due row (bench-push: 1,198 rows for a batch of 200, in 0.6 s). The array also needs no join
back to the table, which a planner misled by stale statistics ran as a nested loop.

Dispatchers share their loop too (:func:`dispatch_forever`, :func:`backoff_seconds`).

The table needs ``id``, ``status``, a due-time column, ``claimed_until`` and ``attempts``, and an
index on (status, due column) so the tick is an index probe whose cost grows with what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from piccolo.table import Table

from backend.core.clock import utcnow
from backend.db import STATEMENTS, current_unit_of_work, fetch
from backend.logging import get_logger

logger = get_logger(__name__)


def claim_statement(table_name: str, *, due_column: str, columns: str, is_sqlite: bool) -> str:
    """The claim, with ``{}`` placeholders for (lease end, pending status, now, now, limit)."""
    due = (
        f"SELECT id FROM {table_name} WHERE status = {{}} AND {due_column} <= {{}} "  # noqa: S608 - identifiers are ours
        f"AND (claimed_until IS NULL OR claimed_until < {{}}) ORDER BY {due_column} LIMIT {{}}"
    )
    ids = f"IN ({due})" if is_sqlite else f"= ANY(ARRAY({due} FOR UPDATE SKIP LOCKED))"
    return (
        f"UPDATE {table_name} SET claimed_until = {{}}, attempts = attempts + 1 "  # noqa: S608 - identifiers are ours
        f"WHERE id {ids} RETURNING {columns}"
    )


async def claim_due(
    table: type[Table],
    *,
    due_column: str,
    pending: str,
    columns: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    is_sqlite: bool,
) -> list[dict[str, Any]]:
    """Take up to ``limit`` rows of ``table`` whose ``status`` is ``pending`` and whose
    ``due_column`` is at or before ``now``, for ``lease``; their ``columns`` come back."""
    statement = claim_statement(
        table._meta.tablename, due_column=due_column, columns=columns, is_sqlite=is_sqlite
    )
    return await fetch(table, statement, now + lease, pending, now, now, limit)


def backoff_seconds(rng: random.Random, attempts: int, *, base: float, ceiling: float) -> float:
    """Exponential backoff with full jitter: after the ``attempts``-th failure, between half and
    all of ``base * 2 ** (attempts - 1)``, never above ``ceiling``."""
    top = min(base * 2 ** (attempts - 1), ceiling)
    return rng.uniform(top / 2, top)


async def dispatch_forever(
    run_once: Callable[[], Awaitable[int]],
    next_due_at: Callable[[], Awaitable[datetime | None]],
    wake: asyncio.Event,
    *,
    idle_poll_seconds: float,
    failed: str,
) -> None:
    """An outbox dispatcher's loop: batches while rows are due, then sleep until woken (a commit
    that wrote rows), the next row's due time or ``idle_poll_seconds``; a failed batch is logged
    as ``failed`` (the error's type only) and retried after the idle poll."""
    STATEMENTS.ignore_current_task()
    while True:
        try:
            claimed = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database or the sender failed: try again shortly
            logger.error(failed, error_type=type(error).__name__)
            claimed = 0
            await asyncio.sleep(idle_poll_seconds)
        if claimed:
            continue
        timeout = idle_poll_seconds
        try:
            due = await next_due_at()
        except Exception:
            due = None
        if due is not None:
            timeout = min(timeout, max((due - utcnow()).total_seconds(), 0.0))
        wake.clear()
        if timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout)


class DispatcherWake:
    """Whom to wake after a commit that wrote outbox rows: the process's in-process dispatcher,
    when it runs one (a worker polls instead)."""

    __slots__ = ("_wake",)

    def __init__(self) -> None:
        self._wake: Callable[[], None] | None = None

    def set(self, wake: Callable[[], None] | None) -> None:
        self._wake = wake

    def after_commit(self) -> None:
        """Wake the dispatcher once the current unit of work commits (never for a rollback)."""
        if self._wake is not None:
            current_unit_of_work().after_commit(self._woken)

    async def _woken(self) -> None:
        if self._wake is not None:
            self._wake()
