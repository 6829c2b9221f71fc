"""The audit log tables: ids only, never PHI values; each row carries the previous row's hash,
and one row of its own holds the last hash (the chain's head)."""

from piccolo.columns import BigSerial, Integer, Timestamptz, Varchar
from piccolo.table import Table


class AuditEvent(Table, tablename="audit_log"):
    id = BigSerial(primary_key=True)
    occurred_at = Timestamptz()
    actor_user_id = Varchar(length=36, null=True, default=None)
    organization_id = Varchar(length=36, null=True, default=None)
    action = Varchar(length=64)
    object_type = Varchar(length=64, null=True, default=None)
    object_id = Varchar(length=64, null=True, default=None)
    client_address = Varchar(length=64, null=True, default=None)
    outcome = Varchar(length=16)
    request_id = Varchar(length=64, null=True, default=None)
    prev_hash = Varchar(length=64)
    row_hash = Varchar(length=64, unique=True)


class AuditChainHead(Table, tablename="audit_chain_head"):
    """The hash of the chain's last row, in the one row with ``id`` 1. Appending locks it
    (``SELECT … FOR UPDATE``, which reads the version the previous appender committed), and
    verification checks the log ends there, so a deleted tail shows."""

    id = Integer(primary_key=True)
    row_hash = Varchar(length=64)
