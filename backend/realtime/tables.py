"""The durable event stream: one row per event per recipient, numbered per recipient.

``stream_cursor`` holds each user's last sequence. A writer takes the next numbers with an
upsert that locks the user's cursor row until it commits, so per user the sequences commit in
the order they were allocated: a client resuming "after N" can never skip an event that was
still in flight (the classic gap of a global sequence committed out of order).
"""

from piccolo.columns import JSON, UUID, BigInt, BigSerial, ForeignKey, Timestamptz, Varchar
from piccolo.table import Table

from backend.accounts.tables import User


class StreamCursor(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, unique=True)
    last_sequence = BigInt(default=0)


class StreamEvent(Table):
    id = BigSerial(primary_key=True)
    user = ForeignKey(references=User, null=False)
    sequence = BigInt()
    event_id = UUID()
    type = Varchar(length=48)
    referral = UUID(null=True, default=None)
    payload = JSON(default="{}")
    occurred_at = Timestamptz()
