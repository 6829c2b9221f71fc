"""Every audit-log query: appending to the chain and reading it back for verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from backend.audit.chain import GENESIS_HASH, row_hash
from backend.audit.tables import AuditEvent

CHAIN_LOCK_KEY = 7_221_001


async def append(rows: list[dict[str, Any]], *, is_sqlite: bool) -> None:
    """Append rows to the chain; must run inside the unit of work's transaction."""
    if not is_sqlite:
        await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", CHAIN_LOCK_KEY)
    head = (
        await AuditEvent.select(AuditEvent.row_hash).order_by(AuditEvent.id, ascending=False).limit(1).first()
    )
    previous = head["row_hash"] if head else GENESIS_HASH
    events = []
    for row in rows:
        chained = {**row, "prev_hash": previous}
        previous = row_hash(chained)
        events.append(AuditEvent(**chained, row_hash=previous))
    await AuditEvent.insert(*events)


async def iter_chain(batch_size: int = 1000) -> AsyncIterator[dict[str, Any]]:
    last_id = 0
    while True:
        batch = (
            await AuditEvent.select().where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch_size)
        )
        if not batch:
            return
        for row in batch:
            yield row
        last_id = batch[-1]["id"]
