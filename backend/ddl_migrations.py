"""Hand-written migrations that run DDL Piccolo's auto migrations cannot express (indexes over
several columns, triggers): each is a tuple of statements forwards and one backwards."""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


async def run_ddl(statements: Sequence[str], *, postgres_only: bool = False) -> None:
    engine = engine_finder()
    assert engine is not None
    if postgres_only and engine.engine_type != "postgres":
        return
    for statement in statements:
        await engine.run_ddl(statement)


def ddl_migration(
    migration_id: str, description: str, forwards: Sequence[str], backwards: Sequence[str]
) -> MigrationManager:
    manager = MigrationManager(migration_id=migration_id, app_name="careloop", description=description)

    async def apply() -> None:
        await run_ddl(forwards)

    async def revert() -> None:
        await run_ddl(backwards)

    manager.add_raw(apply)
    manager.add_raw_backwards(revert)
    return manager


class TypeChangeMigrationManager(MigrationManager):
    """Column type changes that PostgreSQL runs and SQLite skips: SQLite has no ALTER COLUMN, and
    its VARCHAR(n) and TEXT are one type (text affinity, no length enforced), so nothing changes."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        engine = engine_finder()
        if engine is not None and engine.engine_type == "sqlite":
            return
        await super()._run_alter_columns(backwards=backwards)
