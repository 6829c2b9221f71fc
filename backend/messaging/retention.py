"""The retention job: destroys messages past their conversation's retention.

Each instance runs it every MESSAGE_EXPIRY_INTERVAL_MS (reads already hide expired messages,
so the interval only bounds how long ciphertext outlives its expiry); ``python -m backend
messages expire`` runs one pass from cron. Several instances at once are safe: a message
changes state in one UPDATE … WHERE state = 'ACTIVE', so each is expired (and announced) once.
"""

from __future__ import annotations

import asyncio

from backend.db import STATEMENTS, Database
from backend.logging import get_logger
from backend.messaging.service import EXPIRY_BATCH, expire_due_messages

logger = get_logger(__name__)


async def expire_once(database: Database) -> int:
    """Expire everything due now, one batch per transaction; returns how many."""
    total = 0
    while True:
        async with database.unit_of_work():
            count = await expire_due_messages()
        total += count
        if count < EXPIRY_BATCH:
            return total


async def expire_forever(database: Database, interval_seconds: float) -> None:
    STATEMENTS.ignore_current_task()
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            count = await expire_once(database)
        except Exception as error:  # the next pass retries; never log message content
            logger.error("messaging.expiry_failed", error_type=type(error).__name__)
        else:
            if count:
                logger.info("messaging.expired", count=count)
