"""Realtime stream indexes: one sequence number per user, and the per-referral replay path."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-11-29T05:33:43:000000"
VERSION = "1.38.0"
DESCRIPTION = "realtime stream indexes"

CREATE = (
    'CREATE UNIQUE INDEX stream_event_user_sequence ON "stream_event" ("user", "sequence")',
    'CREATE INDEX stream_event_user_referral ON "stream_event" ("user", "referral", "sequence")',
)
DROP = (
    "DROP INDEX IF EXISTS stream_event_user_referral",
    "DROP INDEX IF EXISTS stream_event_user_sequence",
)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
