"""Patient MRN blind index: unique per organization, replacing the plaintext MRN's unique index.

``mrn_index`` leads so the same index serves exact-match lookups across a viewer's
organizations. Rows written before encryption have a NULL ``mrn_index`` (never in conflict) and
keep their plaintext ``mrn``; new rows leave ``mrn`` empty, hence the old index goes. Going
backwards recreates it, which fails (on purpose) once rows have been sealed: reverting the
columns would lose their MRNs.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import ddl_migration

ID = "2026-11-29T07:42:47:000000"
VERSION = "1.38.0"
DESCRIPTION = "patient mrn blind index"

CREATE = (
    "DROP INDEX IF EXISTS patient_organization_mrn",
    'CREATE UNIQUE INDEX patient_mrn_index_organization ON "patient" ("mrn_index", "organization")',
)
DROP = (
    "DROP INDEX IF EXISTS patient_mrn_index_organization",
    'CREATE UNIQUE INDEX patient_organization_mrn ON "patient" ("organization", "mrn")',
)


async def forwards() -> MigrationManager:
    return ddl_migration(ID, DESCRIPTION, CREATE, DROP)
