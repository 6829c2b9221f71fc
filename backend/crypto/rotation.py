"""Re-wrapping every data key under the current key-encryption key (``python -m backend keys rotate``).

    for each registered WrappedKeys entry (table, id column, wrapped-key column, scope):
      keyset pass by id over the rows whose key names another KEK version (empty: legacy, skipped)
      one unit of work per batch: unwrap with the old version, wrap with the current one, and
        UPDATE … SET wrapped_key = <new> WHERE id = ? AND wrapped_key = <old>
    then count the keys still wrapped by another version (0: the old versions can be removed)

Only the wrapped keys change: the data keys, so every ciphertext, stay as they are. The
compare-and-set leaves a row alone if its key changed after it was read, so the job can be killed
at any moment, rerun, or run twice at once next to the live servers, which re-read the key file
when they meet a version they lack (backend/crypto/keys.py). Progress is logged as counts and
table names only. A domain whose table holds wrapped data keys declares a ``WrappedKeys`` next to
its repository's envelope scope; backend/wiring.py lists them (WRAPPED_KEYS), so this module
imports no domain.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import WhereRaw
from piccolo.table import Table

from backend.core.events import Subscribers
from backend.crypto import envelope
from backend.crypto.keys import KeyEncryptionKeys, reload_key_encryption_keys
from backend.db import Database
from backend.logging import get_logger

logger = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WrappedKeys:
    """Where a table keeps its rows' wrapped data keys, and the scope bound into their AAD."""

    table: type[Table]
    id: Column
    wrapped_key: Column
    scope: str

    @property
    def name(self) -> str:
        name: str = self.table._meta.tablename
        return name


@dataclass(slots=True)
class TableRotation:
    table: str
    already_current: int = 0
    rotated: int = 0
    changed_meanwhile: int = 0
    unreadable: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class Batch:
    """One committed batch, as ``on_batch`` receives it."""

    table: str
    number: int
    rotated: int
    changed_meanwhile: int
    unreadable: int
    rotated_in_table: int


@dataclass(frozen=True, slots=True)
class RotationReport:
    current_version: str
    tables: tuple[TableRotation, ...]
    remaining: dict[str, int]

    @property
    def rotated(self) -> int:
        return sum(table.rotated for table in self.tables)

    @property
    def already_current(self) -> int:
        return sum(table.already_current for table in self.tables)

    @property
    def unreadable(self) -> int:
        return sum(table.unreadable for table in self.tables)

    @property
    def remaining_total(self) -> int:
        return sum(self.remaining.values())

    @property
    def complete(self) -> bool:
        return self.remaining_total == 0


async def rotate_data_keys(
    wrapped_keys: Sequence[WrappedKeys],
    batch_size: int = 200,
    on_batch: Callable[[Batch], None] | None = None,
    *,
    database: Database | None = None,
    pause_seconds: float = 0.0,
) -> RotationReport:
    """Re-wrap every data key not wrapped with the key file's current version.

    ``pause_seconds`` waits between batches, to spread the writes on a busy database.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    ring = reload_key_encryption_keys()
    logger.info("crypto.rotation.started", current_version=ring.current_version, batch_size=batch_size)
    async with _started(database) as db:
        tables = []
        for entry in wrapped_keys:
            tables.append(
                await _rotate_table(
                    db,
                    entry,
                    ring=ring,
                    batch_size=batch_size,
                    pause_seconds=pause_seconds,
                    on_batch=on_batch,
                )
            )
        remaining = await count_stale_data_keys(wrapped_keys, ring.current_version)
    report = RotationReport(ring.current_version, tuple(tables), remaining)
    logger.info(
        "crypto.rotation.finished",
        current_version=ring.current_version,
        rotated=report.rotated,
        already_current=report.already_current,
        unreadable=report.unreadable,
        remaining=report.remaining_total,
    )
    return report


async def count_stale_data_keys(
    wrapped_keys: Sequence[WrappedKeys], current_version: str | None = None
) -> dict[str, int]:
    """Per table, the data keys wrapped by a version other than ``current_version`` (default:
    the key file's current one); all zero means the other versions can leave the file."""
    version = current_version or reload_key_encryption_keys().current_version
    counts: dict[str, int] = {}
    for entry in wrapped_keys:
        counts[entry.name] = await entry.table.count().where(_stale(entry, version))
    return counts


async def _rotate_table(
    database: Database,
    entry: WrappedKeys,
    *,
    ring: KeyEncryptionKeys,
    batch_size: int,
    pause_seconds: float,
    on_batch: Callable[[Batch], None] | None,
) -> TableRotation:
    counts = TableRotation(entry.name)
    counts.already_current = await entry.table.count().where(_wrapped_with(entry, ring.current_version))
    after: Any = None
    while True:
        query = entry.table.select(entry.id, entry.wrapped_key).where(_stale(entry, ring.current_version))
        if after is not None:
            query = query.where(entry.id > after)
        async with database.unit_of_work():
            rows = await query.order_by(entry.id).limit(batch_size)
            outcomes = [await _rewrap(entry, ring, row) for row in rows]
        if not rows:
            return counts
        after = rows[-1][entry.id._meta.name]
        batch = Batch(
            table=entry.name,
            number=counts.batches + 1,
            rotated=outcomes.count("rotated"),
            changed_meanwhile=outcomes.count("changed"),
            unreadable=outcomes.count("unreadable"),
            rotated_in_table=counts.rotated + outcomes.count("rotated"),
        )
        counts.batches = batch.number
        counts.rotated = batch.rotated_in_table
        counts.changed_meanwhile += batch.changed_meanwhile
        counts.unreadable += batch.unreadable
        logger.info(
            "crypto.rotation.batch",
            table=entry.name,
            batch=batch.number,
            rotated=batch.rotated,
            changed_meanwhile=batch.changed_meanwhile,
            unreadable=batch.unreadable,
        )
        if on_batch is not None:
            on_batch(batch)
        if pause_seconds > 0:
            await asyncio.sleep(pause_seconds)


async def _rewrap(entry: WrappedKeys, ring: KeyEncryptionKeys, row: dict[str, Any]) -> str:
    """``rotated``, ``changed`` (the compare-and-set found another key) or ``unreadable``."""
    record_id = row[entry.id._meta.name]
    old = row[entry.wrapped_key._meta.name]
    try:
        data_key = envelope.unwrap_data_key(ring, old, scope=entry.scope, record_id=str(record_id))
    except envelope.DecryptionFailed:
        return "unreadable"
    new = envelope.wrap_data_key(ring, data_key, scope=entry.scope, record_id=str(record_id))
    updated = (
        await entry.table.update({entry.wrapped_key: new})
        .where((entry.id == record_id) & (entry.wrapped_key == old))
        .returning(entry.id)
    )
    return "rotated" if updated else "changed"


def _wrapped_with(entry: WrappedKeys, version: str) -> Any:
    return _version_prefix(entry, "=", version)


def _stale(entry: WrappedKeys, version: str) -> Any:
    return (entry.wrapped_key != "") & _version_prefix(entry, "<>", version)


def _version_prefix(entry: WrappedKeys, operator: str, version: str) -> Any:
    """An exact test of the ``<version>:`` prefix (LIKE would read ``_`` in a version as a wildcard)."""
    prefix = f"{version}:"
    column = entry.wrapped_key._meta.db_column_name
    return WhereRaw(f'substr("{column}", 1, {{}}) {operator} {{}}', len(prefix), prefix)


@asynccontextmanager
async def _started(database: Database | None) -> AsyncIterator[Database]:
    """``database``, or one of our own on the engine Piccolo's tables use (started and stopped)."""
    if database is not None:
        yield database
        return
    from piccolo.engine import engine_finder

    from backend.db import CareLoopPostgresEngine, CareLoopSQLiteEngine
    from backend.settings import get_settings

    engine = engine_finder()
    assert isinstance(engine, CareLoopSQLiteEngine | CareLoopPostgresEngine), "see backend/piccolo_conf.py"
    own = Database(engine, get_settings(), Subscribers())  # rotation emits no domain events
    await own.start()
    try:
        yield own
    finally:
        await own.stop()
