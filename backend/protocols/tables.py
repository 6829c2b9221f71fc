"""Protocols: what a receiving organization requires with a referral, versioned.

A referral sent under version N keeps pointing at version N after the protocol changes.
"""

from piccolo.columns import JSON, UUID, ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.accounts.tables import Organization, Specialty, User


class Protocol(Table):
    id = UUID(primary_key=True)
    organization = ForeignKey(references=Organization, null=False, index=True)
    specialty = ForeignKey(references=Specialty, null=False, index=True)
    name = Varchar(length=200)
    current_version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class ProtocolVersion(Table):
    id = UUID(primary_key=True)
    protocol = ForeignKey(references=Protocol, null=False, index=True)
    version = Integer()
    required_fields = JSON(default="[]")
    required_attachment_kinds = JSON(default="[]")
    sla = JSON(default="{}")
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
