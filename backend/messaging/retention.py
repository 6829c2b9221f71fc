"""The retention job: destroys messages past their conversation's retention.

Each instance runs it every MESSAGE_EXPIRY_INTERVAL_MS (reads already hide expired messages,
so the interval only bounds how long ciphertext outlives its expiry); ``python -m backend
messages expire`` runs one pass from cron. Several instances at once are safe: a message
changes state in one UPDATE … WHERE state = 'ACTIVE', so each is expired (and announced) once.
"""

from __future__ import annotations

from backend.core.periodic import in_batches, run_every
from backend.db import Database
from backend.messaging.service import EXPIRY_BATCH, expire_due_messages


async def expire_once(database: Database) -> int:
    """Expire everything due now, one batch per transaction; returns how many."""
    return await in_batches(database, EXPIRY_BATCH, lambda _: expire_due_messages())


async def expire_forever(database: Database, interval_seconds: float) -> None:
    await run_every(
        interval_seconds,
        lambda: expire_once(database),
        done="messaging.expired",
        failed="messaging.expiry_failed",
    )
