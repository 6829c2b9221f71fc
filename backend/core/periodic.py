"""Jobs each server instance runs on a timer: message retention, referral expiry.

every interval: run one pass ──► log how many it handled, or that it failed (the error's
type only, never content); the next pass retries
a pass: one batch per unit of work, until a batch comes back short
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from backend.db import STATEMENTS, Database, UnitOfWork
from backend.logging import get_logger

logger = get_logger(__name__)


async def run_every(
    interval_seconds: float, run_once: Callable[[], Awaitable[int]], *, done: str, failed: str
) -> None:
    """Run ``run_once`` every ``interval_seconds`` until cancelled; ``done`` and ``failed`` are
    the log events of a pass that handled something and of a pass that raised."""
    STATEMENTS.ignore_current_task()
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            count = await run_once()
        except Exception as error:
            logger.error(failed, error_type=type(error).__name__)
        else:
            if count:
                logger.info(done, count=count)


async def in_batches(
    database: Database, batch_size: int, run_batch: Callable[[UnitOfWork], Awaitable[int]]
) -> int:
    """Run ``run_batch`` in a unit of work of its own until it handles fewer than ``batch_size``;
    returns how many it handled in all."""
    total = 0
    while True:
        async with database.unit_of_work() as uow:
            count = await run_batch(uow)
        total += count
        if count < batch_size:
            return total
