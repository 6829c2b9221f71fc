"""E-mail outbox index: the dispatcher's due-row scan (backend/core/leases.py)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-12-04T20:09:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "email outbox due index"

CREATE = ('CREATE INDEX email_outbox_due ON "email_outbox" ("status", "next_attempt_at")',)
DROP = ("DROP INDEX IF EXISTS email_outbox_due",)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
