"""The survey table: one invitation per referral, and the patient's answer on the same row.

Only a digest of the link secret is stored (``secret_digest``); the secret itself is
HMAC(link key, id, ``salt``) (backend/crypto/links.py), so the row alone never yields a working
link, yet the receiving organization's staff can be shown it again. ``comment`` is sealed under
the referral's data key (field ``survey:<id>:comment``); the answer columns stay NULL until the
single answer is recorded (``answered_at``).
"""

from piccolo.columns import UUID, Boolean, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Organization
from backend.referrals.tables import Referral


class SurveyInvitation(Table):
    id = UUID(primary_key=True)
    referral = ForeignKey(references=Referral, null=False, unique=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    delivery = Varchar(length=16)
    salt = Varchar(length=64)
    secret_digest = Varchar(length=64)
    visit_on = Date(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    answered_at = Timestamptz(null=True, default=None)
    overall = Integer(null=True, default=None)
    recommend = Integer(null=True, default=None)
    wait_acceptable = Boolean(null=True, default=None)
    comment = Text(default="")
