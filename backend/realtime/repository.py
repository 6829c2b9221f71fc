"""Every stream query: allocating per-user sequence numbers, writing events, replaying them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from backend.realtime.tables import StreamCursor, StreamEvent

Row = dict[str, Any]
EVENT_COLUMNS = ("user", "sequence", "event_id", "type", "referral", "payload", "occurred_at")
ROWS_PER_STATEMENT = 500


async def allocate_sequences(increments: dict[UUID, int]) -> dict[UUID, int]:
    """Add ``increments[user]`` to each user's cursor; returns each user's new last sequence.

    Users are locked in id order (one statement), so concurrent writers never deadlock; each
    cursor row stays locked until the transaction ends, which orders commits per user.
    """
    if not increments:
        return {}
    users = sorted(increments, key=str)
    values = ", ".join("({}, {}, {})" for _ in users)
    rows = await StreamCursor.raw(
        f'INSERT INTO stream_cursor (id, "user", last_sequence) VALUES {values} '  # noqa: S608 - constants only
        'ON CONFLICT ("user") DO UPDATE '
        "SET last_sequence = stream_cursor.last_sequence + excluded.last_sequence "
        'RETURNING "user", last_sequence',
        *(value for user in users for value in (uuid.uuid4(), user, increments[user])),
    )
    return {UUID(str(row["user"])): int(row["last_sequence"]) for row in rows}


async def insert_events(rows: Sequence[Row]) -> None:
    columns = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
    placeholder = "(" + ", ".join("{}" for _ in EVENT_COLUMNS) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        await StreamEvent.raw(
            f"INSERT INTO stream_event ({columns}) VALUES {', '.join(placeholder for _ in chunk)}",  # noqa: S608
            *(
                value
                for row in chunk
                for value in (
                    row["user"],
                    row["sequence"],
                    row["event_id"],
                    row["type"],
                    row["referral"],
                    json.dumps(row["payload"]),
                    row["occurred_at"],
                )
            ),
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
