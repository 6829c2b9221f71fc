"""Constraints Piccolo's table classes cannot express on both engines.

* Composite unique indexes (Piccolo's ``Unique`` emits ``ALTER TABLE ADD CONSTRAINT``, which
  SQLite lacks; ``CREATE UNIQUE INDEX`` works on both).
* On PostgreSQL the database itself refuses UPDATE, DELETE and TRUNCATE on the audit log.
  SQLite is the embedded development default; there the hash chain
  (``python -m backend audit verify``) is what detects tampering.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from backend.ddl_migrations import run_ddl

ID = "2026-11-28T04:32:57:321063"
VERSION = "1.38.0"
DESCRIPTION = "constraints"

UNIQUE_INDEXES = (
    'CREATE UNIQUE INDEX membership_user_organization_role ON "membership" ("user", "organization", "role")',
    'CREATE UNIQUE INDEX provider_specialty_unique ON "provider_specialty" ("provider", "specialty")',
    'CREATE UNIQUE INDEX login_throttle_scope_key ON "login_throttle" ("scope", "key_hash")',
)
DROP_UNIQUE_INDEXES = (
    "DROP INDEX IF EXISTS membership_user_organization_role",
    "DROP INDEX IF EXISTS provider_specialty_unique",
    "DROP INDEX IF EXISTS login_throttle_scope_key",
)

AUDIT_APPEND_ONLY = (
    """CREATE OR REPLACE FUNCTION careloop_audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$""",
    """CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION careloop_audit_log_is_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION careloop_audit_log_is_append_only()""",
)
AUDIT_ALLOW_CHANGES = (
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
    "DROP FUNCTION IF EXISTS careloop_audit_log_is_append_only()",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="careloop", description=DESCRIPTION)

    async def apply() -> None:
        await run_ddl(UNIQUE_INDEXES)
        await run_ddl(AUDIT_APPEND_ONLY, postgres_only=True)

    async def revert() -> None:
        await run_ddl(AUDIT_ALLOW_CHANGES, postgres_only=True)
        await run_ddl(DROP_UNIQUE_INDEXES)

    manager.add_raw(apply)
    manager.add_raw_backwards(revert)
    return manager
