"""The audit log table: ids only, never PHI values; each row carries the previous row's hash."""

from piccolo.columns import BigSerial, Timestamptz, Varchar
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
