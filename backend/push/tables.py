"""Push tables: devices (FCM registration tokens), per-user push settings, and the outbox.

An outbox row is one notification for one device, written in the same transaction as its cause
(a referral transition, a message), so a rolled-back change leaves none and a committed one is
never lost. Dispatchers claim due rows (``claimed_until`` is a lease; on PostgreSQL with
``FOR UPDATE SKIP LOCKED``), send them, and record the outcome; see backend/push/dispatcher.py.
"""

from piccolo.columns import (
    JSON,
    UUID,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User


class PushDevice(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, index=True)
    device_id = Varchar(length=128)
    platform = Varchar(length=8)
    token = Text()
    app_version = Varchar(length=32, default="")
    locale = Varchar(length=16, default="en")
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PushSettings(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, unique=True)
    time_zone = Varchar(length=64, default="UTC")
    quiet_start = Varchar(length=5, null=True, default=None)
    quiet_end = Varchar(length=5, null=True, default=None)
    referral_updates = Boolean(default=True)
    messages = Boolean(default=True)
    reminders = Boolean(default=True)
    escalations = Boolean(default=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class PushOutbox(Table):
    id = UUID(primary_key=True)
    device = ForeignKey(references=PushDevice, null=True, on_delete=OnDelete.set_null)
    user = ForeignKey(references=User, null=False)
    category = Varchar(length=16)
    event_id = UUID(null=True, default=None, index=True)
    message = JSON(default="{}")
    status = Varchar(length=12)
    reason = Varchar(length=32, null=True, default=None)
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_until = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    sent_at = Timestamptz(null=True, default=None)
    fcm_name = Text(null=True, default=None)
