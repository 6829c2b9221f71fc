"""Messaging indexes: one message number per conversation, one row per client message id and
sender, one read-state row per member, and the conversation list's activity order."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-11-29T07:44:54:000000"
VERSION = "1.38.0"
DESCRIPTION = "messaging indexes"

CREATE = (
    'CREATE UNIQUE INDEX message_one_per_sequence ON "message" ("conversation", "sequence")',
    'CREATE UNIQUE INDEX message_one_per_client_id ON "message" ("conversation", "sender", "client_message_id")',
    'CREATE UNIQUE INDEX conversation_member_one_per_user ON "conversation_member" ("conversation", "user")',
    'CREATE INDEX conversation_activity_order ON "conversation" ("activity_at", "id")',
)
DROP = (
    "DROP INDEX IF EXISTS conversation_activity_order",
    "DROP INDEX IF EXISTS conversation_member_one_per_user",
    "DROP INDEX IF EXISTS message_one_per_client_id",
    "DROP INDEX IF EXISTS message_one_per_sequence",
)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
