"""The single Piccolo app holding every CareLoop table and the migrations folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from backend.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="careloop",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
