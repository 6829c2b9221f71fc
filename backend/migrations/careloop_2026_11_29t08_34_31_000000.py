"""Push indexes: one device row per user and device id, and the dispatcher's due-row scan."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

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


async def _run(statements: tuple[str, ...]) -> None:
    engine = engine_finder()
    assert engine is not None
    for statement in statements:
        await engine.run_ddl(statement)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="careloop", description=DESCRIPTION)

    async def apply() -> None:
        await _run(CREATE)

    async def revert() -> None:
        await _run(DROP)

    manager.add_raw(apply)
    manager.add_raw_backwards(revert)
    return manager
