"""Session tables. A session is one refresh-token family on one device."""

from piccolo.columns import UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import User


class AuthSession(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, index=True)
    device_id = Varchar(length=128)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoked_reason = Varchar(length=32, null=True, default=None)


class RefreshToken(Table):
    id = UUID(primary_key=True)
    session = ForeignKey(references=AuthSession, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


class LoginThrottle(Table):
    id = UUID(primary_key=True)
    scope = Varchar(length=16)
    key_hash = Varchar(length=64)
    failures = Integer(default=0)
    window_started_at = Timestamptz()
    locked_until = Timestamptz(null=True, default=None)
