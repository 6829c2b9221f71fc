"""Referral-domain constraints and the inbox's keyset indexes (both engines).

The inbox orders by ``(priority_rank, due_at, id)`` within the receiving or referring
organization, so each side gets one composite index that serves both filter and order.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-11-29T05:16:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "referral constraints and inbox indexes"

CREATE = (
    'CREATE UNIQUE INDEX patient_organization_mrn ON "patient" ("organization", "mrn")',
    'CREATE UNIQUE INDEX provider_plan_unique ON "provider_plan" ("provider", "plan")',
    'CREATE UNIQUE INDEX network_link_unique ON "network_link" ("organization", "provider")',
    'CREATE UNIQUE INDEX protocol_organization_specialty ON "protocol" ("organization", "specialty")',
    'CREATE UNIQUE INDEX protocol_version_unique ON "protocol_version" ("protocol", "version")',
    'CREATE UNIQUE INDEX idempotency_user_key ON "idempotency_record" ("user", "key")',
    'CREATE INDEX referral_inbox_receiving ON "referral" '
    '("receiving_organization", "priority_rank", "due_at", "id")',
    'CREATE INDEX referral_inbox_referring ON "referral" '
    '("referring_organization", "priority_rank", "due_at", "id")',
    'CREATE INDEX referral_event_timeline ON "referral_event" ("referral", "id")',
)
DROP = (
    "DROP INDEX IF EXISTS referral_event_timeline",
    "DROP INDEX IF EXISTS referral_inbox_referring",
    "DROP INDEX IF EXISTS referral_inbox_receiving",
    "DROP INDEX IF EXISTS idempotency_user_key",
    "DROP INDEX IF EXISTS protocol_version_unique",
    "DROP INDEX IF EXISTS protocol_organization_specialty",
    "DROP INDEX IF EXISTS network_link_unique",
    "DROP INDEX IF EXISTS provider_plan_unique",
    "DROP INDEX IF EXISTS patient_organization_mrn",
)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
