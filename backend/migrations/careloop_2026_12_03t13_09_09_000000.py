"""The audit chain's head row starts at the log's last row (the genesis hash for an empty log)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.audit.chain import GENESIS_HASH
from backend.ddl_migrations import ddl_migration

ID = "2026-12-03T13:09:09:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit chain head row"

CREATE = (
    "INSERT INTO audit_chain_head (id, row_hash) SELECT 1, COALESCE("
    f"(SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1), '{GENESIS_HASH}')",
)
DROP = ("DELETE FROM audit_chain_head",)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
