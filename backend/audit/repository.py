"""Every audit-log query: appending to the chain and reading it back for verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from backend.audit.chain import CHAINED_FIELDS, GENESIS_HASH, row_hash
from backend.audit.tables import AuditEvent
from backend.db import fetch

CHAIN_LOCK_KEY = 7_221_001
INSERTED_COLUMNS = (*CHAINED_FIELDS, "row_hash")
ROWS_PER_STATEMENT = 500
_COLUMN_LIST = ", ".join(f'"{name}"' for name in INSERTED_COLUMNS)
_ROW_PLACEHOLDERS = "(" + ", ".join("{}" for _ in INSERTED_COLUMNS) + ")"


async def append(rows: list[dict[str, Any]], *, is_sqlite: bool) -> None:
    """Append rows to the chain; must run inside the unit of work's transaction."""
    if not is_sqlite:
        await fetch(AuditEvent, "SELECT pg_advisory_xact_lock({})", CHAIN_LOCK_KEY)
    head = await fetch(AuditEvent, "SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    previous = head[0]["row_hash"] if head else GENESIS_HASH
    values: list[Any] = []
    for row in rows:
        chained = {**row, "prev_hash": previous}
        previous = chained["row_hash"] = row_hash(chained)
        values.append([chained[name] for name in INSERTED_COLUMNS])
    # One multi-row INSERT per 500 rows, built directly: an inbox page audits ~100 reads, and
    # building that many Table objects costs more than the database round trip.
    for start in range(0, len(values), ROWS_PER_STATEMENT):
        chunk = values[start : start + ROWS_PER_STATEMENT]
        placeholders = ", ".join(_ROW_PLACEHOLDERS for _ in chunk)
        await fetch(
            AuditEvent,
            f"INSERT INTO audit_log ({_COLUMN_LIST}) VALUES {placeholders}",  # noqa: S608 - constants only
            *(value for row_values in chunk for value in row_values),
        )


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
