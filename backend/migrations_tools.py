"""Running migrations and checking that they match the tables (drift check)."""

from __future__ import annotations

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from backend.logging import get_logger
from backend.patients.repository import seal_legacy_patients
from backend.piccolo_app import APP_CONFIG
from backend.referrals.repository import seal_legacy_documents, seal_legacy_referrals

logger = get_logger(__name__)


async def migrate() -> None:
    """Apply pending migrations, then seal data that needs the keys (which migrations cannot see).

    Patients written before MRN encryption get their MRN encrypted and indexed here; referrals
    written before encryption get a data key, their clinical text and timeline notes sealed; and
    documents stored before sealing get their file names, hashes and (if plain) content sealed.
    """
    response = await run_forwards(app_name="careloop", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")
    sealed, left = await seal_legacy_patients()
    if sealed or left:
        logger.info("patients.legacy_mrns_sealed", sealed=sealed, left=left)
    referrals, notes = await seal_legacy_referrals()
    if referrals or notes:
        logger.info("referrals.legacy_text_sealed", referrals=referrals, notes=notes)
    if documents := await seal_legacy_documents():
        logger.info("referrals.legacy_documents_sealed", documents=documents)


async def pending_table_changes() -> list[str]:
    """Statements an auto-migration would need: empty when migrations match the tables."""
    statements = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=APP_CONFIG)
    return [line for group in statements for line in group.statements]
