"""What every bench shares: a fresh database of its own, dropped afterwards.

PostgreSQL (``BENCH_POSTGRES_URL``, default the machine's ``test`` database as admin connection)
gives the headline figures; when it is unreachable a temp SQLite file is used, and said so.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class BenchError(RuntimeError):
    """The benchmark cannot produce a trustworthy figure."""


# --- database --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    engine: str
    database_url: str
    description: str
    postgres_name: str | None = None


async def admin(*statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def provision(var_dir: Path) -> Target:
    """A fresh PostgreSQL database, or a temp SQLite file when PostgreSQL is unreachable."""
    name = f"careloop_bench_{os.getpid()}"
    server = ADMIN_URL.split("@")[-1].rsplit("/", 1)[0]
    try:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'))
    except Exception as error:
        print(f"PostgreSQL unreachable at {server} ({error!r}): falling back to SQLite (not the headline)")
        path = var_dir / "bench.sqlite3"
        return Target("sqlite", f"sqlite:///{path}", f"SQLite (fallback) at {path}")
    return Target(
        "postgresql",
        f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}",
        f"PostgreSQL at {server}, database {name}",
        postgres_name=name,
    )


def drop(target: Target) -> None:
    if target.postgres_name is None:
        return
    try:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{target.postgres_name}" WITH (FORCE)'))
    except Exception as error:
        print(f"warning: could not drop database {target.postgres_name}: {error!r}", file=sys.stderr)
