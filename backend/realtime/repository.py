"""Every stream query: allocating per-user sequence numbers, writing events, replaying them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from backend.db import fetch
from backend.realtime.tables import StreamCursor, StreamEvent

Row = dict[str, Any]
EVENT_COLUMNS = ("user", "sequence", "event_id", "type", "referral", "payload", "occurred_at")
ROWS_PER_STATEMENT = 500
_EVENT_COLUMN_LIST = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)


async def allocate_sequences(increments: dict[UUID, int]) -> dict[UUID, int]:
    """Add ``increments[user]`` to each user's cursor; returns each user's new last sequence.

    Users are locked in id order (one statement), so concurrent writers never deadlock; each
    cursor row stays locked until the transaction ends, which orders commits per user.
    """
    if not increments:
        return {}
    users = sorted(increments, key=str)
    values = ", ".join("({}, {}, {})" for _ in users)
    rows = await fetch(
        StreamCursor,
        f'INSERT INTO stream_cursor (id, "user", last_sequence) VALUES {values} '  # noqa: S608 - constants only
        'ON CONFLICT ("user") DO UPDATE '
        "SET last_sequence = stream_cursor.last_sequence + excluded.last_sequence "
        'RETURNING "user", last_sequence',
        *(value for user in users for value in (uuid.uuid4(), user, increments[user])),
    )
    return {UUID(str(row["user"])): int(row["last_sequence"]) for row in rows}


async def append_events(
    increments: dict[UUID, int], rows: Sequence[Row], *, is_sqlite: bool
) -> dict[UUID, int]:
    """:func:`allocate_sequences`, then insert the events numbered from what it returned: each
    row has ``from_end`` instead of a ``sequence`` (0 for the user's last event of this batch).
    PostgreSQL does both in one statement (two data-modifying CTEs) for batches up to
    ``ROWS_PER_STATEMENT`` rows; SQLite runs in process, where a statement costs no round trip."""
    if is_sqlite or len(rows) > ROWS_PER_STATEMENT:
        last = await allocate_sequences(increments)
        await insert_events([{**row, "sequence": last[row["user"]] - row["from_end"]} for row in rows])
        return last
    users = sorted(increments, key=str)
    cursors = ", ".join("({}::uuid, {}::uuid, {}::bigint)" for _ in users)
    events = ", ".join(
        "({}::uuid, {}::bigint, {}::uuid, {}::text, {}::uuid, {}::json, {}::timestamptz)" for _ in rows
    )
    found = await fetch(
        StreamCursor,
        f'WITH cursor AS (INSERT INTO stream_cursor (id, "user", last_sequence) VALUES {cursors} '  # noqa: S608 - constants only
        'ON CONFLICT ("user") DO UPDATE '
        "SET last_sequence = stream_cursor.last_sequence + excluded.last_sequence "
        'RETURNING "user", last_sequence), '
        f"inserted AS (INSERT INTO stream_event ({_EVENT_COLUMN_LIST}) "
        "SELECT e.recipient, cursor.last_sequence - e.from_end, e.event_id, e.type, e.referral, e.payload, "
        f"e.occurred_at FROM (VALUES {events}) "
        "AS e (recipient, from_end, event_id, type, referral, payload, occurred_at) "
        'JOIN cursor ON cursor."user" = e.recipient) '
        'SELECT "user", last_sequence FROM cursor',
        *(value for user in users for value in (uuid.uuid4(), user, increments[user])),
        *(value for row in rows for value in _event_values(row, row["from_end"])),
    )
    return {UUID(str(row["user"])): int(row["last_sequence"]) for row in found}


def _event_values(row: Row, number: int) -> tuple[Any, ...]:
    """A stream event row's values in ``EVENT_COLUMNS`` order, ``number`` in the sequence's place."""
    return (
        row["user"],
        number,
        row["event_id"],
        row["type"],
        row["referral"],
        json.dumps(row["payload"]),
        row["occurred_at"],
    )


async def insert_events(rows: Sequence[Row]) -> None:
    placeholder = "(" + ", ".join("{}" for _ in EVENT_COLUMNS) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        await fetch(
            StreamEvent,
            f"INSERT INTO stream_event ({_EVENT_COLUMN_LIST}) VALUES {', '.join(placeholder for _ in chunk)}",  # noqa: S608
            *(value for row in chunk for value in _event_values(row, row["sequence"])),
        )


async def events_after(
    user_id: UUID, after: int, *, limit: int, up_to: int | None = None, referral_id: UUID | None = None
) -> list[Row]:
    query = StreamEvent.select(
        StreamEvent.sequence,
        StreamEvent.event_id,
        StreamEvent.type,
        StreamEvent.referral,
        StreamEvent.payload,
        StreamEvent.occurred_at,
    ).where((StreamEvent.user == user_id) & (StreamEvent.sequence > after))
    if up_to is not None:
        query = query.where(StreamEvent.sequence <= up_to)
    if referral_id is not None:
        query = query.where(StreamEvent.referral == referral_id)
    rows: list[Row] = await query.order_by(StreamEvent.sequence).limit(limit)
    return rows


async def last_sequence(user_id: UUID) -> int:
    row = await StreamCursor.select(StreamCursor.last_sequence).where(StreamCursor.user == user_id).first()
    return int(row["last_sequence"]) if row else 0
