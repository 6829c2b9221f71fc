"""Realtime stream indexes: one sequence number per user, and the per-referral replay path."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

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
