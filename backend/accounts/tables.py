"""Account tables. A membership row grants one role in one organization."""

from piccolo.columns import UUID, Boolean, ForeignKey, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organization(Table):
    id = UUID(primary_key=True)
    name = Varchar(length=200)
    kind = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())


class User(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254, unique=True)
    display_name = Varchar(length=200)
    password_hash = Varchar(length=255, null=True, default=None)
    home_organization = ForeignKey(references=Organization, null=False)
    is_active = Boolean(default=True)
    password_changed_at = Timestamptz(null=True, default=None)
    deactivated_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Membership(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, index=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    role = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())


class Specialty(Table):
    id = UUID(primary_key=True)
    code = Varchar(length=64, unique=True)
    name = Varchar(length=200)


class Provider(Table):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    user = ForeignKey(references=User, null=True, index=True)
    npi = Varchar(length=10, unique=True)
    display_name = Varchar(length=200)
    accepting_new_patients = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class ProviderSpecialty(Table):
    id = UUID(primary_key=True)
    provider = ForeignKey(references=Provider, null=False, index=True)
    specialty = ForeignKey(references=Specialty, null=False, index=True)


class Invitation(Table):
    id = UUID(primary_key=True)
    user = ForeignKey(references=User, null=False, index=True)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
