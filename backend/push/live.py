"""Live suppression: a device that received an event over its socket needs no push for it.

    socket delivers an event whose ``pushUsers`` holds its user ──► note (event, user, device id)
    every ``interval`` (one task per process) ──► the noted outbox rows, still PENDING in their
        grace period, become SKIPPED (reason LIVE), in one unit of work

Rows are marked in the database, so this works whichever process dispatches (in-process or a
separate worker). A socket that misses the grace period simply lets the push go out.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from backend.db import STATEMENTS, Database
from backend.logging import get_logger
from backend.push import repository

logger = get_logger(__name__)
MAX_PENDING = 10_000


class LiveDeliveries:
    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[tuple[UUID, UUID, str]] = []

    def delivered(self, event: dict[str, object], user_id: UUID, device_id: str | None) -> None:
        push_users = event.get("pushUsers")
        if not push_users or device_id is None or not isinstance(push_users, list):
            return
        if str(user_id) in push_users and len(self._pending) < MAX_PENDING:
            self._pending.append((UUID(str(event["eventId"])), user_id, device_id))

    async def flush(self, database: Database) -> int:
        pending, self._pending = self._pending, []
        if not pending:
            return 0
        async with database.unit_of_work():
            return await repository.skip_live(pending)

    async def run(self, database: Database, interval: float) -> None:
        STATEMENTS.ignore_current_task()
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush(database)
            except Exception as error:
                logger.error("push.live_flush_failed", error_type=type(error).__name__)


LIVE = LiveDeliveries()
