"""Push indexes: one device row per user and device id, and the dispatcher's due-row scan."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-11-29T08:34:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "push indexes"

CREATE = (
    'CREATE UNIQUE INDEX push_device_one_per_device ON "push_device" ("user", "device_id")',
    'CREATE INDEX push_device_by_token ON "push_device" ("token")',
    'CREATE INDEX push_outbox_due ON "push_outbox" ("status", "next_attempt_at")',
)
DROP = (
    "DROP INDEX IF EXISTS push_outbox_due",
    "DROP INDEX IF EXISTS push_device_by_token",
    "DROP INDEX IF EXISTS push_device_one_per_device",
)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
