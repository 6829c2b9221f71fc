"""Every audit-log query: appending to the chain and reading it back for verification."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from backend.audit.chain import CHAINED_FIELDS, row_hash
from backend.audit.tables import AuditChainHead, AuditEvent
from backend.db import fetch

HEAD_ID = 1
INSERTED_COLUMNS = (*CHAINED_FIELDS, "row_hash")
ROWS_PER_STATEMENT = 500
_COLUMN_LIST = ", ".join(f'"{name}"' for name in INSERTED_COLUMNS)
_ROW_PLACEHOLDERS = "(" + ", ".join("{}" for _ in INSERTED_COLUMNS) + ")"
_INSERT = f"INSERT INTO audit_log ({_COLUMN_LIST}) VALUES "  # noqa: S608 - constants only
_LOCK_HEAD = "SELECT row_hash FROM audit_chain_head WHERE id = {} FOR UPDATE"
_LOCK_HEAD_SQLITE = "SELECT row_hash FROM audit_chain_head WHERE id = {}"
_MOVE_HEAD = "UPDATE audit_chain_head SET row_hash = {} WHERE id = {}"


async def append(rows: list[dict[str, Any]], *, is_sqlite: bool) -> None:
    """Append rows to the chain; must run inside the unit of work's transaction.

    The head row stays locked until the transaction ends (on SQLite the writer lock is already
    held), so appends are serialized and the log's ids follow the chain. On PostgreSQL the last
    INSERT and the head's update are one statement."""
    head = await fetch(AuditChainHead, _LOCK_HEAD_SQLITE if is_sqlite else _LOCK_HEAD, HEAD_ID)
    if not head:
        raise RuntimeError("the audit chain has no head row: run `python -m backend migrate`")
    previous = head[0]["row_hash"]
    values: list[Any] = []
    for row in rows:
        chained = {**row, "prev_hash": previous}
        previous = chained["row_hash"] = row_hash(chained)
        values.append([chained[name] for name in INSERTED_COLUMNS])
    # One multi-row INSERT per 500 rows, built directly: an inbox page audits ~100 reads, and
    # building that many Table objects costs more than the database round trip.
    chunks = [
        values[start : start + ROWS_PER_STATEMENT] for start in range(0, len(values), ROWS_PER_STATEMENT)
    ]
    for number, chunk in enumerate(chunks, start=1):
        insert = _INSERT + ", ".join(_ROW_PLACEHOLDERS for _ in chunk)
        arguments = [value for row_values in chunk for value in row_values]
        if number == len(chunks) and not is_sqlite:
            await fetch(
                AuditEvent, f"WITH appended AS ({insert}) {_MOVE_HEAD}", *arguments, previous, HEAD_ID
            )
        else:
            await fetch(AuditEvent, insert, *arguments)
    if is_sqlite:
        await fetch(AuditChainHead, _MOVE_HEAD, previous, HEAD_ID)


async def head_hash() -> str | None:
    rows = await fetch(AuditChainHead, "SELECT row_hash FROM audit_chain_head WHERE id = {}", HEAD_ID)
    return str(rows[0]["row_hash"]) if rows else None


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
