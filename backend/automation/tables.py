"""Automation tables: one row per planned step of a referral's escalation ladder."""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.referrals.tables import Referral


class AutomationStep(Table):
    """``due_at`` with ``status`` is the runner's index (automation_step_due); ``deadline`` is
    the time the rule is about (respond-by, schedule-by), shown to the app and on the timeline."""

    id = UUID(primary_key=True)
    referral = ForeignKey(references=Referral, null=False, index=True)
    rule = Varchar(length=32)
    rung = Integer(default=0)
    audience = Varchar(length=32)
    due_at = Timestamptz()
    deadline = Timestamptz(null=True, default=None)
    status = Varchar(length=12)
    attempts = Integer(default=0)
    claimed_until = Timestamptz(null=True, default=None)
    fired_at = Timestamptz(null=True, default=None)
    late = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())
