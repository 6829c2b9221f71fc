"""Automation index: the runner's due-step probe on (status, due_at)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-12-04T20:06:51:000000"
VERSION = "1.38.0"
DESCRIPTION = "automation step index"

CREATE = ('CREATE INDEX automation_step_due ON "automation_step" ("status", "due_at")',)
DROP = ("DROP INDEX IF EXISTS automation_step_due",)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
