"""Reading the test database underneath the API: a plain-text dump of every table."""

from __future__ import annotations

import sqlite3

from backend.db import sqlite_path
from backend.referrals.tables import Referral
from backend.settings import get_settings


async def dump() -> str:
    """Every row of every table, as text (SQLite file tables, or PostgreSQL's public schema)."""
    settings = get_settings()
    if settings.uses_sqlite:
        with sqlite3.connect(sqlite_path(settings.database_url)) as connection:
            return "\n".join(connection.iterdump())
    tables = await Referral.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    dumped = []
    for table in tables:
        rows = await Referral.raw(f'SELECT row_to_json(t)::text AS row FROM "{table["tablename"]}" t')  # noqa: S608
        dumped += [row["row"] for row in rows]
    return "\n".join(dumped)
