"""Database engines and the unit of work.

One request, job or message is one transaction::

    boundary (GraphQL handler, CLI, job)
      └─ Database.unit_of_work()        BEGIN (IMMEDIATE on SQLite, under the writer lock)
           ├─ services + repositories   queries join the transaction through Piccolo's context
           ├─ before-commit hooks       e.g. the audit chain is appended here, last and short
           └─ COMMIT  ──►  after-commit hooks (events, pushes): never run for a rollback

Services never commit. SQLite: every unit of work is an immediate transaction taken under one
in-process writer lock, so concurrent writers queue instead of failing with "database is
locked"; the file runs in WAL mode so readers outside units of work are not blocked.
PostgreSQL: a pool opened and closed with the app; each transaction serializes its own
statements so concurrently resolved GraphQL fields never share the connection at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import TYPE_CHECKING, Any

from piccolo.columns import Column
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString
from piccolo.table import Table

from backend.logging import get_logger
from backend.settings import Settings

if TYPE_CHECKING:
    from backend.core.events import Subscribers

AfterCommit = Callable[[], Awaitable[None]]
_CURRENT: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar("careloop_uow", default=None)
logger = get_logger(__name__)
POOL_CLOSE_TIMEOUT_SECONDS = 5.0


def placeholders(count: int) -> str:
    """``{}, {}, …`` for a raw statement's ``IN (…)`` list of ``count`` values."""
    return ", ".join(["{}"] * count)


async def keyset_pages(
    select: Callable[[], Select[Any]], key: Column, size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """The rows of ``select()`` in pages of ``size`` ordered by ``key`` (a selected, unique
    column), each page read after the previous page's last key: a pass may change the rows it
    has read (seal them, say) without losing or repeating any."""
    name = key._meta.name
    after: Any = None
    while True:
        query = select()
        if after is not None:
            query = query.where(key > after)
        rows: list[dict[str, Any]] = await query.order_by(key).limit(size)
        if not rows:
            return
        yield rows
        after = rows[-1][name]


def select_columns(table: type[Table]) -> str:
    """``table.select()``'s columns, in its order, qualified, for a raw statement: building a
    Piccolo select costs 0.1-0.5 ms of CPU, the raw statement a few microseconds."""
    name = table._meta.tablename
    return ", ".join(f'{name}."{column._meta.db_column_name}"' for column in table._meta.columns)


async def fetch(table: type[Table], template: str, *args: Any) -> list[dict[str, Any]]:
    """``await table.raw(template, *args)``: one raw statement with ``{}`` placeholders, its rows
    as dicts. On PostgreSQL it goes to asyncpg directly: Piccolo's raw query parses the template
    and builds a query object on every call, which cost as much CPU as the database round trip
    on the hot paths (a message send runs seven statements)."""
    engine = table._meta.db
    if isinstance(engine, CareLoopPostgresEngine):
        return await engine.fetch_rows(template, args)
    rows: list[dict[str, Any]] = await table.raw(template, *args)
    return rows


@lru_cache(maxsize=1024)
def _numbered_placeholders(template: str) -> str:
    """``{}`` → ``$1``, ``$2``, … (``{{``/``}}`` are literal braces, as for Piccolo)."""
    parts = []
    number = 0
    for text, field, spec, conversion in Formatter().parse(template):
        parts.append(text)
        if field is None:
            continue
        if field or spec or conversion:
            raise ValueError("raw statements take bare {} placeholders only")
        number += 1
        parts.append(f"${number}")
    return "".join(parts)


def current_unit_of_work() -> UnitOfWork:
    """The unit of work the caller runs in; services use it to queue after-commit work."""
    uow = _CURRENT.get()
    if uow is None:
        raise RuntimeError("no unit of work: run inside Database.unit_of_work()")
    return uow


class StatementCounter:
    """Counts SQL statements the process runs for requests; tests use it to prove the absence of
    N+1 queries. Background jobs call :meth:`ignore_current_task` so they do not blur the count."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0

    def add(self) -> None:
        if _COUNTED.get():
            self.count += 1

    @staticmethod
    def ignore_current_task() -> None:
        _COUNTED.set(False)


_COUNTED: contextvars.ContextVar[bool] = contextvars.ContextVar("careloop_statements_counted", default=True)


STATEMENTS = StatementCounter()


class CareLoopSQLiteEngine(SQLiteEngine):
    async def get_connection(self) -> Any:
        connection = await super().get_connection()
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def run_querystring(self, querystring: QueryString, in_pool: bool = False) -> Any:
        STATEMENTS.add()
        return await super().run_querystring(querystring, in_pool=in_pool)


class LockedPostgresTransaction(PostgresTransaction):
    __slots__ = ("statement_lock",)

    def __init__(self, engine: PostgresEngine, allow_nested: bool = True) -> None:
        super().__init__(engine, allow_nested)
        self.statement_lock = asyncio.Lock()


class CareLoopPostgresEngine(PostgresEngine):
    """Piccolo's engine with one connection pool per event loop.

    An asyncpg pool belongs to the loop that opened it. Production runs one loop per process;
    tests also run apps on a second loop (the live server's thread), which gets its own pool.
    """

    @property
    def pool(self) -> Any:
        return self._pools_by_loop.get(_running_loop_id())

    @pool.setter
    def pool(self, value: Any) -> None:
        pools: dict[int | None, Any] = self.__dict__.setdefault("_pools_by_loop", {})
        if value is None:
            pools.pop(_running_loop_id(), None)
        else:
            pools[_running_loop_id()] = value

    @property
    def _pools_by_loop(self) -> dict[int | None, Any]:
        pools: dict[int | None, Any] = self.__dict__.setdefault("_pools_by_loop", {})
        return pools

    def transaction(self, allow_nested: bool = True) -> LockedPostgresTransaction:
        return LockedPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def fetch_rows(self, template: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        STATEMENTS.add()
        query = _numbered_placeholders(template)
        transaction = self.current_transaction.get()
        if isinstance(transaction, LockedPostgresTransaction):
            async with transaction.statement_lock:
                records = await transaction.connection.fetch(query, *args)
        elif transaction is not None:
            records = await transaction.connection.fetch(query, *args)
        elif self.pool is not None:
            records = await self._run_in_pool(query, args)
        else:
            records = await self._run_in_new_connection(query, args)
        return [dict(record) for record in records]

    async def run_querystring(self, querystring: QueryString, in_pool: bool = True) -> Any:
        STATEMENTS.add()
        transaction = self.current_transaction.get()
        if isinstance(transaction, LockedPostgresTransaction):
            async with transaction.statement_lock:
                return await super().run_querystring(querystring, in_pool=in_pool)
        return await super().run_querystring(querystring, in_pool=in_pool)


Engine = CareLoopSQLiteEngine | CareLoopPostgresEngine


async def _keep_session_state(connection: Any) -> None:
    """The pool's reset on release, instead of asyncpg's ``pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL``: one round trip per unit of work (before its events are published)
    for state this app never leaves behind. It takes only transaction-scoped locks, declares no
    cursors outside a transaction, never LISTENs and never SETs a session variable; asyncpg still
    rolls back an open transaction before calling this."""


def _running_loop_id() -> int | None:
    try:
        return id(asyncio.get_running_loop())
    except RuntimeError:
        return None


def sqlite_path(database_url: str) -> Path:
    return Path(database_url.removeprefix("sqlite:///"))


def create_engine(settings: Settings) -> Engine:
    if settings.uses_sqlite:
        path = sqlite_path(settings.database_url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode = WAL")
        return CareLoopSQLiteEngine(path=str(path), timeout=30)
    return CareLoopPostgresEngine(config={"dsn": settings.database_url})


class UnitOfWork:
    """The transaction of one request, job or message, and what must happen around its commit.

    ``extensions`` holds per-transaction buffers of other modules (the realtime event outbox);
    ``subscribers`` react to the domain events emitted in it (``backend.core.events``);
    ``publisher`` is what after-commit hooks hand events to (None in CLI commands and jobs that
    run without a server). ``current_unit_of_work()`` returns the one the caller runs in.
    """

    __slots__ = (
        "_after_commit",
        "_before_commit",
        "_final_before_commit",
        "_rollback_only",
        "extensions",
        "is_sqlite",
        "publisher",
        "subscribers",
    )

    def __init__(self, *, is_sqlite: bool, subscribers: Subscribers, publisher: Any = None) -> None:
        self.is_sqlite = is_sqlite
        self.subscribers = subscribers
        self.publisher = publisher
        self.extensions: dict[str, Any] = {}
        self._before_commit: list[AfterCommit] = []
        self._final_before_commit: list[AfterCommit] = []
        self._after_commit: list[AfterCommit] = []
        self._rollback_only = False

    def before_commit(self, hook: AfterCommit, *, last: bool = False) -> None:
        """Run ``hook`` inside the transaction just before COMMIT; ``last`` hooks run after the
        others, so every transaction takes the locks those hooks need in the same order."""
        (self._final_before_commit if last else self._before_commit).append(hook)

    def after_commit(self, hook: AfterCommit) -> None:
        self._after_commit.append(hook)

    def set_rollback_only(self) -> None:
        self._rollback_only = True

    @property
    def rollback_only(self) -> bool:
        return self._rollback_only


class Database:
    """Owns the engine for the app's lifetime: pool, SQLite writer lock, units of work."""

    def __init__(self, engine: Engine, settings: Settings, subscribers: Subscribers) -> None:
        self.engine = engine
        self.settings = settings
        self.subscribers = subscribers
        self._writer_lock = asyncio.Lock()
        self._owns_pool = False
        self.publisher: Any = None

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.engine, SQLiteEngine)

    async def start(self) -> None:
        """Open this loop's PostgreSQL pool, unless another app on the same loop already did."""
        if isinstance(self.engine, PostgresEngine) and self.engine.pool is None:
            await self.engine.start_connection_pool(
                min_size=self.settings.postgres_pool_min,
                max_size=self.settings.postgres_pool_max,
                reset=_keep_session_state,
            )
            self._owns_pool = True

    async def stop(self) -> None:
        if isinstance(self.engine, PostgresEngine) and self._owns_pool:
            pool = self.engine.pool
            try:
                await asyncio.wait_for(pool.close(), POOL_CLOSE_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning("database.pool_close_timeout", seconds=POOL_CLOSE_TIMEOUT_SECONDS)
                pool.terminate()
            self.engine.pool = None
            self._owns_pool = False

    async def ping(self) -> bool:
        try:
            await self.engine.run_querystring(QueryString("SELECT 1"))
        except Exception:
            return False
        return True

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        uow = UnitOfWork(is_sqlite=self.is_sqlite, subscribers=self.subscribers, publisher=self.publisher)
        token = _CURRENT.set(uow)
        try:
            async with self._writer_slot(), self._new_transaction() as transaction:
                yield uow
                for hook in [*uow._before_commit, *uow._final_before_commit]:
                    await hook()
                if uow.rollback_only:
                    await transaction.rollback()
        finally:
            _CURRENT.reset(token)
        if not uow.rollback_only:
            for hook in uow._after_commit:
                try:
                    await hook()
                except Exception as error:  # the change is committed: report, never undo
                    logger.error("unit_of_work.after_commit_failed", error_type=type(error).__name__)

    def _writer_slot(self) -> asyncio.Lock | AbstractAsyncContextManager[None]:
        return self._writer_lock if self.is_sqlite else nullcontext()

    def _new_transaction(self) -> Any:
        if isinstance(self.engine, SQLiteEngine):
            return SQLiteTransaction(
                self.engine, transaction_type=TransactionType.immediate, allow_nested=False
            )
        return self.engine.transaction(allow_nested=False)
