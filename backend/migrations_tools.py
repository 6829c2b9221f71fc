"""Running migrations and checking that they match the tables (drift check)."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from backend.piccolo_app import APP_CONFIG


async def migrate() -> None:
    response = await run_forwards(app_name="careloop", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")


async def pending_table_changes() -> list[str]:
    """Statements an auto-migration would need: empty when migrations match the tables."""
    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=APP_CONFIG)
    return [line for group in statements for line in group.statements]
