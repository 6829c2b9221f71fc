from backend.ddl_migrations import TypeChangeMigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar

ID = "2026-12-03T10:22:38:276525"
VERSION = "1.38.0"
DESCRIPTION = "seal_document_names"


async def forwards():
    # The sealed file name and hash are longer than VARCHAR(200) and VARCHAR(64) allow.
    manager = TypeChangeMigrationManager(migration_id=ID, app_name="careloop", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Document",
        tablename="document",
        column_name="filename",
        db_column_name="filename",
        params={},
        old_params={},
        column_class=Text,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Document",
        tablename="document",
        column_name="sha256",
        db_column_name="sha256",
        params={},
        old_params={},
        column_class=Text,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
