"""The long-lived services of one process, built once by the app factory or a CLI command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from backend.auth.keys import KeyRing, load_key_ring
from backend.auth.passwords import Passwords
from backend.auth.service import AuthService
from backend.auth.tokens import AccessTokens
from backend.db import CareLoopPostgresEngine, CareLoopSQLiteEngine, Database
from backend.settings import Settings
from backend.wiring import build_subscribers


@dataclass(slots=True)
class Container:
    settings: Settings
    database: Database
    keys: KeyRing
    auth: AuthService
    redis: Any = None


def build_container(settings: Settings) -> Container:
    from piccolo.engine import engine_finder  # the engine Piccolo's tables are bound to

    engine = engine_finder()
    assert isinstance(engine, CareLoopSQLiteEngine | CareLoopPostgresEngine), "see backend/piccolo_conf.py"
    keys = load_key_ring(settings)
    tokens = AccessTokens(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    auth = AuthService(settings, Passwords(settings.password_hashing), tokens)
    database = Database(engine, settings, build_subscribers())
    return Container(settings=settings, database=database, keys=keys, auth=auth)


@asynccontextmanager
async def running_container(settings: Settings) -> AsyncIterator[Container]:
    """A container whose database is started, and stopped on the way out: for CLI commands."""
    container = build_container(settings)
    await container.database.start()
    try:
        yield container
    finally:
        await container.database.stop()
