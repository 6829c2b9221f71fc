"""The e-mail outbox: one row per e-mail, written in the transaction of its cause.

The recipient's address and the body (it holds a signed link) are sealed under a data key of
the row's own (scope "email", fields "recipient", "subject", "body"; ``wrapped_key``), so the table
never holds an address or a link in clear; once SENT the sealed content is blanked. Dispatchers
claim due rows with a lease (backend/core/leases.py); see backend/email/dispatcher.py.
"""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class EmailOutbox(Table):
    id = UUID(primary_key=True)
    kind = Varchar(length=32)
    recipient = Text(default="")
    subject = Text(default="")
    body = Text(default="")
    wrapped_key = Text(default="")
    status = Varchar(length=12)
    reason = Varchar(length=32, null=True, default=None)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
