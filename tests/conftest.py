"""Test harness: one database per run (SQLite or PostgreSQL), migrated with the real migrations,
and the real app served by uvicorn on a loopback port. Tests speak HTTP and WebSocket to it.

TEST_DATABASE=sqlite|postgres picks the engine (the Makefile runs both). Off CI a missing
PostgreSQL or Redis skips those tests, saying so; with CI=true it fails instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

ON_CI = os.environ.get("CI", "").lower() == "true"
TEST_DATABASE = os.environ.get("TEST_DATABASE", "sqlite")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
VAR_DIR = Path(tempfile.mkdtemp(prefix="careloop-test-"))
POSTGRES_UNAVAILABLE: str | None = None
REDIS_AVAILABLE = False
SERVER_STOP_TIMEOUT_SECONDS = 20


def _create_postgres_database() -> str:
    import asyncpg

    name = f"careloop_test_{os.getpid()}_{secrets.token_hex(3)}"

    async def create() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()

    asyncio.run(create())
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def _drop_postgres_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    asyncio.run(drop())


def _redis_reachable() -> bool:
    from urllib.parse import urlparse

    parsed = urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


if TEST_DATABASE == "postgres":
    try:
        DATABASE_URL = _create_postgres_database()
    except Exception as error:
        if ON_CI:
            sys.exit(f"CI=true and PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {error!r}")
        POSTGRES_UNAVAILABLE = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error!r}"
        DATABASE_URL = f"sqlite:///{VAR_DIR / 'unused.sqlite3'}"
else:
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'careloop-test.sqlite3'}"

REDIS_AVAILABLE = _redis_reachable()
if ON_CI and not REDIS_AVAILABLE:
    sys.exit("CI=true and Redis is unreachable at 127.0.0.1:6379")

os.environ.update(
    {
        "CARELOOP_ENV": "test",
        "CARELOOP_VAR_DIR": str(VAR_DIR),
        "DATABASE_URL": DATABASE_URL,
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_PARALLELISM": "1",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "LOG_FORMAT": "json",
        "POSTGRES_POOL_MAX": "20",
        "WS_CONNECTION_INIT_TIMEOUT_SECONDS": "1",
        "WS_MAX_BACKLOG": "200",
        "WS_PING_INTERVAL_SECONDS": "1",
        "MESSAGE_MIN_RETENTION_SECONDS": "1",
        "MESSAGE_EXPIRY_INTERVAL_MS": "200",
    }
)
# Push goes through the real firebase-admin library to a local fake FCM for the whole session (it
# serves from its own thread); every payload it receives is scanned for PHI at the end
# (tests/push/test_no_phi.py, moved last).
from tools.fake_fcm import FakeFcm  # noqa: E402

FAKE_FCM = FakeFcm()
asyncio.run(FAKE_FCM.start())
os.environ.update(
    {
        "FCM_SERVICE_ACCOUNT_FILE": str(FAKE_FCM.write_service_account(VAR_DIR / "fcm-service-account.json")),
        "FCM_SEND_URL": FAKE_FCM.send_url_template,
        "PUSH_LIVE_GRACE_MS": "300",
        "PUSH_BACKOFF_MS": "100",
        "PUSH_LEASE_MS": "3000",
        "PUSH_IDLE_POLL_MS": "100",
        "PUSH_MAX_ATTEMPTS": "4",
        "PUSH_DISPATCH_IN_PROCESS": "false",  # tests run dispatchers explicitly (`dispatcher` fixture)
        "AUTOMATION_IN_PROCESS": "false",  # tests run the ladder's runner with the instants they choose
    }
)
# E-mail goes through the real aiosmtplib sender to a real local SMTP server (aiosmtpd) for the
# whole session; the in-process e-mail dispatcher of the test server sends it.
from tests.support.smtp import LocalSmtp  # noqa: E402

LOCAL_SMTP = LocalSmtp()
LOCAL_SMTP.start()
os.environ.update(
    {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(LOCAL_SMTP.port),
        "SMTP_STARTTLS": "false",
        "SMTP_FROM": "CareLoop <no-reply@careloop.test>",
        "EMAIL_BACKOFF_MS": "100",
        "EMAIL_IDLE_POLL_MS": "100",
        "EMAIL_LEASE_MS": "3000",
        "EMAIL_MAX_ATTEMPTS": "3",
    }
)
if REDIS_AVAILABLE:
    os.environ["REDIS_URL"] = REDIS_URL
    # pub/sub ignores database numbers: a channel per run keeps concurrent runs (make test runs
    # SQLite and PostgreSQL side by side) out of each other's events
    os.environ["REDIS_CHANNEL"] = f"careloop:test:{secrets.token_hex(8)}"
else:
    os.environ.pop("REDIS_URL", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    last = [
        item for item in items if item.module is not None and item.module.__name__.endswith("test_no_phi")
    ]
    items[:] = [item for item in items if item not in last] + last
    if POSTGRES_UNAVAILABLE:
        skip = pytest.mark.skip(reason=f"{POSTGRES_UNAVAILABLE} (set CI=true to make this fail)")
        for item in items:
            item.add_marker(skip)
    if not REDIS_AVAILABLE:
        skip_redis = pytest.mark.skip(reason="Redis unreachable at 127.0.0.1:6379 (fails when CI=true)")
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip_redis)


def pytest_report_header(config: pytest.Config) -> str:
    redis_state = "available" if REDIS_AVAILABLE else "absent"
    return f"careloop: database={TEST_DATABASE} ({DATABASE_URL.split('@')[-1]}), redis={redis_state}"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    LOCAL_SMTP.stop()
    if TEST_DATABASE == "postgres" and not POSTGRES_UNAVAILABLE:
        _drop_postgres_database(DATABASE_URL)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
async def live_server() -> AsyncIterator[LiveServer]:
    import uvicorn

    from backend.app import create_app
    from backend.migrations_tools import migrate
    from backend.realtime import UVICORN_WEBSOCKETS
    from backend.settings import get_settings

    await migrate()
    app = create_app(get_settings())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws=UVICORN_WEBSOCKETS,
        ws_per_message_deflate=False,
        ws_max_size=get_settings().realtime.max_message_bytes,
        lifespan="on",
        timeout_graceful_shutdown=5,  # as in production: a straggling socket cannot hold teardown
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    yield LiveServer(app=app, base_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}/graphql")
    server.should_exit = True
    done, _ = await asyncio.wait({task}, timeout=SERVER_STOP_TIMEOUT_SECONDS)
    if not done:
        _print_task_stacks()
        pytest.fail(f"the test server did not stop within {SERVER_STOP_TIMEOUT_SECONDS} s (stacks above)")
    await task


def _print_task_stacks() -> None:
    for running in asyncio.all_tasks():
        buffer = io.StringIO()
        running.print_stack(file=buffer)
        print(f"task {running.get_name()}:\n{buffer.getvalue()}", file=sys.stderr)


class LiveServer:
    def __init__(self, app: object, base_url: str, ws_url: str) -> None:
        self.app = app
        self.base_url = base_url
        self.ws_url = ws_url

    @property
    def container(self):  # type: ignore[no-untyped-def]
        return self.app.state.container  # type: ignore[attr-defined]


@pytest.fixture
def client_ip() -> str:
    """A distinct client address per test, sent through the trusted-proxy header."""
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@pytest.fixture
async def api(live_server: LiveServer, client_ip: str) -> AsyncIterator[Api]:
    import httpx

    from tests.support.api import CLIENT_LIMITS, Api

    async with httpx.AsyncClient(
        base_url=live_server.base_url,
        headers={"x-forwarded-for": client_ip},
        timeout=30,
        limits=CLIENT_LIMITS,
    ) as http:
        yield Api(http, live_server)


@pytest.fixture
def factory(live_server: LiveServer) -> Factory:
    from tests.support.factories import Factory

    return Factory(live_server.container)


@pytest.fixture
def directory(live_server: LiveServer) -> DirectoryFactory:
    from tests.support.factories import DirectoryFactory

    return DirectoryFactory(live_server.container)


@pytest.fixture
async def world(api: Api, factory: Factory, directory: DirectoryFactory) -> World:
    from tests.support.referrals import build_world

    return await build_world(api, factory, directory)


from tests.support.api import Api  # noqa: E402
from tests.support.factories import DirectoryFactory, Factory  # noqa: E402
from tests.support.referrals import World  # noqa: E402


@pytest.fixture
def smtp() -> LocalSmtp:
    """The session's local SMTP server (its records span the whole suite: use your own addresses)."""
    return LOCAL_SMTP


@pytest.fixture
def fake_fcm() -> FakeFcm:
    """The session's fake FCM (its records span the whole suite: use your own device tokens)."""
    return FAKE_FCM


@pytest.fixture
async def dispatcher(live_server: LiveServer) -> AsyncIterator[Any]:
    """A push dispatcher running next to the test server (as the in-process one would), woken by
    commits that write outbox rows."""
    from backend.push import notify
    from backend.push.runtime import build_dispatcher

    container = live_server.container
    running = build_dispatcher(container.settings, container.database)
    notify.on_outbox_written(running.wake)
    task = asyncio.create_task(running.run())
    yield running
    task.cancel()
    notify.on_outbox_written(None)
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await running.sender.close()
