"""Realtime: fan-out latency and idle memory per subscribed socket, against plain WebSocket servers.

Run with ``make bench-realtime`` (or ``python -m bench.realtime``)::

    fresh database: PostgreSQL ``careloop_bench_<pid>`` (a temp SQLite file if unreachable)
      ─► migrate ─► 2,000 users, each with a session row and an access token signed with the app's
         own key ring (no logins: argon2 and the login path are not what this measures)
    servers, each in its own process (``python -m bench.realtime --serve KIND``), never the client's:
      careloop    create_app() under uvicorn as ``python -m backend serve`` runs it, plus routes for
                  this run only: POST /bench/audience, POST /bench/event (Hub.deliver of one event to
                  every audience user, as the bus does after a commit), GET /bench/status
      litestar    a minimal Litestar app under the same uvicorn settings: WebSocket /ws kept in a set;
                  POST /bench/event sends one stored pre-encoded text to every socket, one after another
      websockets  the `websockets` library's asyncio server (compression off) holding sockets
    fan-out, one scenario each for 1, 100 and 1,000 subscribers:
      N CareLoop sockets (connection_init with a token, subscribe with the app's Events document)
      and N plain sockets, opened with the `websockets` client, then read by a frame stamper
      ─► 70 warm-up events per side (the plain server then broadcasts CareLoop's last frame text)
      ─► rounds alternating which side goes first; per event: t0 ─► trigger over HTTP ─► every socket
         stamps its frame on arrival (same clock) ─► all N arrived ─► pause ─► next event
      ─► p50 / p99 of (arrival - t0) per side over every delivery; server and client CPU per
         event; server RSS growth per subscriber over the events
    idle memory (one scenario): per round and kind a fresh server process ─► 20 warm-up sockets,
      closed ─► VmRSS ─► 2,000 sockets (CareLoop: each with a live `events` subscription) ─► VmRSS
      ─► (after - before) / 2,000; the order alternates between rounds
    ─► stop the servers ─► drop the database ─► the JSON figure lines, last

Settings are read from the environment once, so every variable is set before any backend module
is imported (backend imports live inside functions); server processes inherit the environment.
Server processes die with the bench (PR_SET_PDEATHSIG), even when it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import io
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import msgspec
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from backend.realtime import UVICORN_WEBSOCKETS
from bench.database import BenchError, drop, provision

if TYPE_CHECKING:
    from litestar import Litestar

ROOT = Path(__file__).resolve().parents[1]
USERS = 2_000
# (subscribers, events per side per round, pause after each event in s): 200, 200 and 120
# measured events per side, each scenario well under a minute.
FANOUT = ((1, 50, 0.005), (100, 50, 0.01), (1_000, 30, 0.02))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
# Warm-up events per side and scenario: past the first events after subscribing (per-subscription
# caches filling, the long-lived objects of N new sockets pending a full collection), so the rounds
# see the steady state of long-lived sockets.
WARMUP_EVENTS = 70
EVENT_TIMEOUT_SECONDS = 15.0
IDLE_CONNECTIONS = int(os.environ.get("BENCH_IDLE_CONNECTIONS", "2000"))
MEMORY_ROUNDS = int(os.environ.get("BENCH_MEMORY_ROUNDS", "2"))
MEMORY_WARMUP_CONNECTIONS = 20
# careloop against websockets is the figure; the plain Litestar socket under the same uvicorn
# (informational) splits the difference into server stack and CareLoop's own per-socket state.
MEMORY_KINDS = ("careloop", "litestar", "websockets")
SETTLE_SECONDS = 1.0
CONNECT_CONCURRENCY = 64
TRANSPORT_WS = Subprotocol("graphql-transport-ws")
REFERRAL_ID = "5b0f5f53-7a4e-4c1a-9d0e-3f1b2c4d5e6f"
PR_SET_PDEATHSIG = 1

# The app's own subscription document, selecting every field.
EVENTS = (ROOT / "mobile_contract" / "operations" / "Events.graphql").read_text()

T = TypeVar("T")
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def _configure_environment(var_dir: Path, database_url: str) -> None:
    os.environ.update(
        {
            "CARELOOP_ENV": "test",
            "CARELOOP_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "RATE_LIMIT_PER_MINUTE": "10000000",
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "PASSWORD_HASH_PARALLELISM": "1",
            "LOG_LEVEL": "WARNING",
            "ACCESS_TOKEN_TTL_SECONDS": "900",
            # Protocol pings would arrive as extra frames mid-measurement; the ping task still
            # exists per socket (it sleeps), so memory is unaffected.
            "WS_PING_INTERVAL_SECONDS": "3600",
        }
    )
    os.environ.pop("REDIS_URL", None)


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    user_id: str
    token: str


async def _seed(count: int) -> list[Account]:
    """``count`` users with a live session each, and an access token naming that session."""
    from backend.accounts import repository as accounts
    from backend.accounts.codes import OrganizationKind
    from backend.accounts.tables import Organization
    from backend.auth import repository as auth
    from backend.auth.tokens import AccessTokens
    from backend.container import build_container
    from backend.core.clock import utcnow
    from backend.db import Database
    from backend.migrations_tools import migrate
    from backend.settings import get_settings

    settings = get_settings()
    container = build_container(settings)
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates every migration
        await migrate()
    tokens = AccessTokens(
        container.keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    database = Database(container.database.engine, settings, container.database.subscribers)
    await database.start()
    try:
        now = utcnow()
        async with database.unit_of_work():
            organization = Organization(name="Bench Clinic", kind=OrganizationKind.CLINIC.value)
            await organization.save()
            organization_id = uuid.UUID(str(organization.id))
            found = []
            for n in range(count):
                user_id = await accounts.insert_user(
                    email=f"subscriber{n:05d}@bench.example",
                    display_name=f"Subscriber {n}",
                    home_organization_id=organization_id,
                    password_hash=None,
                )
                session_id = await auth.insert_session(user_id, "bench-device", now + timedelta(days=1))
                token, _ = tokens.issue(user_id, session_id, now)
                found.append(Account(str(user_id), token))
    finally:
        await database.stop()
    return found


# --- server processes ------------------------------------------------------------------------


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the bench process ends, however it ends (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def _uvicorn(app: Litestar, port: int, ws: str = "auto") -> None:
    """Serve as ``python -m backend serve`` does (compression off, no transport pings)."""
    import uvicorn

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        ws=ws,  # type: ignore[arg-type]
        ws_per_message_deflate=False,
        ws_max_size=65_536,
        ws_ping_interval=None,
        proxy_headers=False,
        server_header=False,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


def _serve_careloop(port: int) -> None:
    """The real app plus three routes for this run only, mounted before serving."""
    from litestar import Request, get, post

    from backend.app import create_app
    from backend.realtime.events import StreamMessage
    from backend.realtime.hub import Hub
    from backend.settings import get_settings

    app = create_app(get_settings())
    hub: Hub = app.state.hub
    audience: list[uuid.UUID] = []

    @post("/bench/audience", status_code=204, include_in_schema=False)
    async def set_audience(request: Request[Any, Any, Any]) -> None:
        audience[:] = [uuid.UUID(user) for user in _decoder.decode(await request.body())]

    @post("/bench/event", status_code=204, include_in_schema=False)
    async def deliver(request: Request[Any, Any, Any]) -> None:
        """One referral status change for every audience user, handed to the hub as the bus does."""
        sequence = _decoder.decode(await request.body())["sequence"]
        event = {
            "eventId": str(uuid.uuid4()),
            "type": "REFERRAL_STATUS_CHANGED",
            "occurredAt": datetime.now(UTC).isoformat(),
            "referralId": REFERRAL_ID,
            "version": 3,
            "status": "ACCEPTED",
            "action": "ACCEPT",
            "previousStatus": "IN_REVIEW",
            "reasonCode": None,
        }
        hub.deliver([StreamMessage(event=event, sequences=dict.fromkeys(audience, sequence))])

    @get("/bench/status", include_in_schema=False, cache=False)
    async def status() -> dict[str, int]:
        return {"subscriptions": hub.subscription_count}

    for handler in (set_audience, deliver, status):
        app.register(handler)
    _uvicorn(app, port, ws=UVICORN_WEBSOCKETS)  # as `python -m backend serve` runs it


def _serve_litestar(port: int) -> None:
    """The baseline broadcast: a set of sockets and one pre-encoded text sent to each in turn."""
    from litestar import Litestar, Request, WebSocket, get, post, websocket
    from litestar.exceptions import WebSocketDisconnect

    sockets: set[WebSocket[Any, Any, Any]] = set()
    payload = [""]

    @websocket("/ws")
    async def hold(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        sockets.add(socket)
        try:
            while True:
                await socket.receive_data("text")
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(socket)

    @post("/bench/payload", status_code=204)
    async def set_payload(request: Request[Any, Any, Any]) -> None:
        payload[0] = (await request.body()).decode()

    @post("/bench/event", status_code=204)
    async def broadcast() -> None:
        text = payload[0]
        for connection in list(sockets):
            await connection.send_data(text)

    @get("/bench/status", cache=False)
    async def status() -> dict[str, int]:
        return {"subscriptions": len(sockets)}

    app = Litestar(
        route_handlers=[hold, set_payload, broadcast, status],
        debug=False,
        openapi_config=None,
        logging_config=None,
    )
    _uvicorn(app, port)


def _serve_websockets(port: int) -> None:
    """The baseline for memory: the library's asyncio server holding sockets, compression off."""
    from http import HTTPStatus

    from websockets.asyncio.server import ServerConnection, serve
    from websockets.http11 import Request as HandshakeRequest
    from websockets.http11 import Response as HandshakeResponse

    held: set[ServerConnection] = set()

    async def hold(connection: ServerConnection) -> None:
        held.add(connection)
        try:
            await connection.wait_closed()
        finally:
            held.discard(connection)

    def status(connection: ServerConnection, request: HandshakeRequest) -> HandshakeResponse | None:
        if request.path == "/bench/status":
            return connection.respond(HTTPStatus.OK, json.dumps({"subscriptions": len(held)}))
        return None

    async def main() -> None:
        stop = asyncio.get_running_loop().create_future()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
        async with serve(
            hold, "127.0.0.1", port, compression=None, ping_interval=None, process_request=status
        ):
            await stop

    _run(main())


SERVERS: dict[str, Callable[[int], None]] = {
    "careloop": _serve_careloop,
    "litestar": _serve_litestar,
    "websockets": _serve_websockets,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """One server in its own process: its RSS and CPU are its own, not the clients'."""

    def __init__(self, kind: str, var_dir: Path) -> None:
        self.kind = kind
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}" + {"careloop": "/graphql", "litestar": "/ws"}.get(
            kind, "/"
        )
        self.log = var_dir / f"server-{kind}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, http: httpx.AsyncClient, within: float = 60.0) -> ServerProcess:
        command = [sys.executable, "-m", "bench.realtime", "--serve", self.kind, "--port", str(self.port)]
        command += ["--parent", str(os.getpid())]
        self.process = self._spawn(command)
        deadline = time.monotonic() + within
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"the {self.kind} server exited at start-up:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{self.base_url}/bench/status")).status_code == 200:
                    return self
            if time.monotonic() > deadline:
                raise BenchError(f"the {self.kind} server did not start within {within:g} s:\n{self.tail()}")
            await asyncio.sleep(0.1)

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        with self.log.open("wb") as log:
            return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise BenchError(f"no VmRSS for the {self.kind} server (pid {self.pid})")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    async def subscriptions(self, http: httpx.AsyncClient) -> int:
        count: int = (await http.get(f"{self.base_url}/bench/status")).json()["subscriptions"]
        return count

    async def wait_for(self, http: httpx.AsyncClient, count: int, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while (found := await self.subscriptions(http)) != count:
            if time.monotonic() > deadline:
                raise BenchError(f"the {self.kind} server holds {found} subscriptions, expected {count}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


# --- clients ---------------------------------------------------------------------------------


async def _gather_or_close(
    coroutines: Sequence[Coroutine[Any, Any, ClientConnection]],
) -> list[ClientConnection]:
    results = await asyncio.gather(*coroutines, return_exceptions=True)
    opened = [result for result in results if isinstance(result, ClientConnection)]
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        await _close(opened)
        raise BenchError(f"{len(failures)} of {len(results)} sockets failed to open: {failures[0]!r}")
    return opened


async def _open_careloop(url: str, accounts: Sequence[Account], after: int) -> list[ClientConnection]:
    """Sockets as the app opens them: connection_init with a token, ack, subscribe Events(after:)."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    subscribe = json.dumps(
        {"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"after": after}}}
    )

    async def one(account: Account) -> ClientConnection:
        async with gate:
            connection = await websockets.connect(
                url, subprotocols=[TRANSPORT_WS], compression=None, ping_interval=None, open_timeout=60
            )
            await connection.send(
                json.dumps({"type": "connection_init", "payload": {"accessToken": account.token}})
            )
            ack = json.loads(await asyncio.wait_for(connection.recv(), 60))
            if ack.get("type") != "connection_ack":
                await connection.close()
                raise BenchError(f"connection_init refused: {ack}")
            await connection.send(subscribe)
            return connection

    return await _gather_or_close([one(account) for account in accounts])


async def _open_plain(url: str, count: int) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> ClientConnection:
        async with gate:
            return await websockets.connect(url, compression=None, ping_interval=None, open_timeout=60)

    return await _gather_or_close([one() for _ in range(count)])


async def _close(connections: Sequence[ClientConnection]) -> None:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY * 4)

    async def one(connection: ClientConnection) -> None:
        async with gate:
            with contextlib.suppress(Exception):
                await connection.close()

    await asyncio.gather(*(one(connection) for connection in connections))


class _Stamper(asyncio.Protocol):
    """Takes over an open socket's transport: stamps each server frame in ``data_received``.

    Reading through the library's ``recv`` costs the client ~15-20 µs per frame (parsing, UTF-8
    check, a task wake-up): at 1,000 subscribers that is more CPU than the plain server spends per
    event, so the clients, not the server, would set the baseline's latency. Here a frame costs a
    header parse and two appends. Server frames are unmasked; pings are off, so every frame is a
    delivery (its opcode and payload are kept for the checks).
    """

    def __init__(self, audience: Audience) -> None:
        self._audience = audience
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buffer = self._buffer + data if self._buffer else data
        while len(buffer) >= 2:
            length, start = buffer[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                break
            self._audience.arrived(now, buffer[0] & 0x0F, buffer[start : start + length])
            buffer = buffer[start + length :]
        self._buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        return None


class Audience:
    """N open sockets of one side, each stamping its frames on arrival (see :class:`_Stamper`).

    Handshake, connection_init and subscribe go through the `websockets` library; the transports
    are then handed to stampers, and handed back to the library to close the sockets properly.
    """

    TEXT = 0x1

    def __init__(self, name: str, connections: list[ClientConnection]) -> None:
        self.name = name
        self.connections = connections
        self.arrivals: list[float] = []
        self.frames: list[bytes] = []
        self.bad_frames = 0
        self._all_arrived = asyncio.Event()
        for connection in connections:
            connection.transport.set_protocol(_Stamper(self))

    def arrived(self, now: float, opcode: int, payload: bytes) -> None:
        self.arrivals.append(now)
        self.frames.append(payload)
        self.bad_frames += opcode != self.TEXT
        if len(self.arrivals) >= len(self.connections):
            self._all_arrived.set()

    async def event(self, trigger: Callable[[], Awaitable[None]]) -> tuple[list[float], list[bytes]]:
        """Latencies (s) from just before the trigger to each socket's arrival, and the frames."""
        self.arrivals.clear()
        self.frames.clear()
        self._all_arrived.clear()
        started = time.perf_counter()
        await trigger()
        try:
            await asyncio.wait_for(self._all_arrived.wait(), EVENT_TIMEOUT_SECONDS)
        except TimeoutError:
            raise BenchError(
                f"{self.name}: {len(self.arrivals)} of {len(self.connections)} frames arrived "
                f"within {EVENT_TIMEOUT_SECONDS:g} s"
            ) from None
        if len(self.arrivals) != len(self.connections) or self.bad_frames:
            raise BenchError(
                f"{self.name}: {len(self.arrivals)} frames ({self.bad_frames} not text) "
                f"for {len(self.connections)} sockets"
            )
        return [arrival - started for arrival in self.arrivals], list(self.frames)

    async def close(self) -> None:
        for connection in self.connections:
            connection.transport.set_protocol(connection)
        await _close(self.connections)


# --- fan-out ---------------------------------------------------------------------------------


def _percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))]


@dataclass(slots=True)
class SideSample:
    latencies: list[float] = field(default_factory=list)
    round_p99: list[float] = field(default_factory=list)
    events: int = 0
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    def ms(self, fraction: float) -> float:
        return 1000 * _percentile(self.latencies, fraction)


@dataclass(frozen=True, slots=True)
class Fanout:
    subscribers: int
    frame_bytes: int
    sides: dict[str, SideSample]
    rss_growth_kib: dict[str, int]  # server RSS after the rounds minus before the warm-up events
    seconds: float


@dataclass(slots=True)
class Servers:
    http: httpx.AsyncClient
    careloop: ServerProcess
    plain: ServerProcess
    sequence: int = 0  # each user's last stream sequence: every event goes to every audience user


def _check_careloop_frames(frames: list[bytes], sequence: int) -> None:
    if any(frame != frames[0] for frame in frames):
        raise BenchError("careloop: subscribers received different frames for one event")
    message = _decoder.decode(frames[0])
    data = (message.get("payload") or {}).get("data") or {}
    if message.get("type") != "next" or (data.get("events") or {}).get("sequence") != sequence:
        raise BenchError(f"careloop: unexpected frame for sequence {sequence}: {frames[0]!r}")


async def _fanout(
    servers: Servers, accounts: Sequence[Account], events_per_round: int, pause: float
) -> Fanout:
    started = time.perf_counter()
    http, careloop_server, plain_server = servers.http, servers.careloop, servers.plain
    count = len(accounts)
    response = await http.post(
        f"{careloop_server.base_url}/bench/audience", content=_encoder.encode([a.user_id for a in accounts])
    )
    response.raise_for_status()
    careloop = Audience("careloop", await _open_careloop(careloop_server.ws_url, accounts, servers.sequence))
    plain = Audience("plain", await _open_plain(plain_server.ws_url, count))
    try:
        await careloop_server.wait_for(http, count)
        await plain_server.wait_for(http, count)
        rss_before = {"careloop": careloop_server.rss_kib(), "plain": plain_server.rss_kib()}
        payload = b""

        async def careloop_event() -> tuple[list[float], list[bytes]]:
            servers.sequence += 1
            body = _encoder.encode({"sequence": servers.sequence})

            async def trigger() -> None:
                (await http.post(f"{careloop_server.base_url}/bench/event", content=body)).raise_for_status()

            latencies, frames = await careloop.event(trigger)
            _check_careloop_frames(frames, servers.sequence)
            return latencies, frames

        async def plain_event() -> tuple[list[float], list[bytes]]:
            async def trigger() -> None:
                (await http.post(f"{plain_server.base_url}/bench/event")).raise_for_status()

            latencies, frames = await plain.event(trigger)
            if any(frame != payload for frame in frames):
                raise BenchError("plain: a frame differs from the broadcast payload")
            return latencies, frames

        for _ in range(WARMUP_EVENTS):
            _, frames = await careloop_event()
            await asyncio.sleep(pause)
        payload = frames[0]
        (await http.post(f"{plain_server.base_url}/bench/payload", content=payload)).raise_for_status()
        for _ in range(WARMUP_EVENTS):
            await plain_event()
            await asyncio.sleep(pause)

        sides: dict[str, tuple[ServerProcess, Callable[[], Awaitable[tuple[list[float], Any]]]]] = {
            "careloop": (careloop_server, careloop_event),
            "plain": (plain_server, plain_event),
        }
        samples = {name: SideSample() for name in sides}
        for round_number in range(ROUNDS):
            order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
            for name in order:
                server, fire = sides[name]
                sample, in_round = samples[name], []
                server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
                for _ in range(events_per_round):
                    latencies, _ = await fire()
                    in_round.extend(latencies)
                    await asyncio.sleep(pause)
                sample.server_cpu += server.cpu_seconds() - server_cpu
                sample.client_cpu += time.process_time() - client_cpu
                sample.events += events_per_round
                sample.latencies.extend(in_round)
                sample.round_p99.append(_percentile(in_round, 0.99))
        rss_growth = {
            "careloop": careloop_server.rss_kib() - rss_before["careloop"],
            "plain": plain_server.rss_kib() - rss_before["plain"],
        }
    finally:
        await careloop.close()
        await plain.close()
    await careloop_server.wait_for(http, 0)
    await plain_server.wait_for(http, 0)
    return Fanout(count, len(payload), samples, rss_growth, time.perf_counter() - started)


def _report_fanout(result: Fanout) -> None:
    print(
        f"fan-out to {result.subscribers} subscriber(s): frame {result.frame_bytes} bytes, "
        f"{result.sides['careloop'].events} events per side in {ROUNDS} alternating rounds "
        f"({result.seconds:.1f} s)"
    )
    labels = {
        "careloop": "careloop (Hub.deliver → graphql-transport-ws)",
        "plain": "plain Litestar broadcast",
    }
    for name, sample in result.sides.items():
        print(
            f"  {labels[name]:46s} p50 {sample.ms(0.50):7.2f} ms  p99 {sample.ms(0.99):7.2f} ms"
            f"  max {1000 * max(sample.latencies):7.2f} ms"
        )
        print(
            f"  {'':46s} round p99s {', '.join(f'{1000 * p:.1f}' for p in sample.round_p99)} ms;"
            f" CPU per event: server {1000 * sample.server_cpu / sample.events:.2f} ms,"
            f" client {1000 * sample.client_cpu / sample.events:.2f} ms"
        )
    if result.subscribers >= 100:
        print(
            "  server RSS growth over the warm-up and the rounds, per subscriber: "
            + ", ".join(
                f"{name} {kib / result.subscribers:.1f} KiB" for name, kib in result.rss_growth_kib.items()
            )
        )
    careloop, plain = result.sides["careloop"], result.sides["plain"]
    print(
        f"  ratio careloop / plain: p50 {careloop.ms(0.5) / plain.ms(0.5):.2f}, "
        f"p99 {careloop.ms(0.99) / plain.ms(0.99):.2f}"
    )


# --- idle memory -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemorySample:
    kind: str
    before_kib: int
    after_kib: int
    connections: int
    connect_seconds: float

    @property
    def per_connection_kib(self) -> float:
        return (self.after_kib - self.before_kib) / self.connections


async def _memory_round(
    kind: str, var_dir: Path, http: httpx.AsyncClient, accounts: Sequence[Account]
) -> MemorySample:
    """A fresh server process; its RSS before and after ``len(accounts)`` idle subscribed sockets."""
    server = await ServerProcess(kind, var_dir).start(http)
    try:

        async def open_sockets(chosen: Sequence[Account]) -> list[ClientConnection]:
            if kind == "careloop":
                return await _open_careloop(server.ws_url, chosen, 0)
            return await _open_plain(server.ws_url, len(chosen))

        warm = await open_sockets(accounts[:MEMORY_WARMUP_CONNECTIONS])
        await server.wait_for(http, len(warm))
        await _close(warm)
        await server.wait_for(http, 0)
        await asyncio.sleep(SETTLE_SECONDS / 2)
        before = server.rss_kib()
        started = time.perf_counter()
        connections = await open_sockets(accounts)
        try:
            await server.wait_for(http, len(accounts), within=60)
            connect_seconds = time.perf_counter() - started
            await asyncio.sleep(SETTLE_SECONDS)
            after = server.rss_kib()
        finally:
            await _close(connections)
    finally:
        server.stop()
    return MemorySample(kind, before, after, len(accounts), connect_seconds)


async def _idle_memory(
    var_dir: Path, http: httpx.AsyncClient, accounts: Sequence[Account]
) -> list[MemorySample]:
    samples: list[MemorySample] = []
    kinds = MEMORY_KINDS
    for round_number in range(MEMORY_ROUNDS):
        order = kinds if round_number % 2 == 0 else tuple(reversed(kinds))
        for kind in order:
            sample = await _memory_round(kind, var_dir, http, accounts)
            samples.append(sample)
            print(
                f"  round {round_number + 1}/{MEMORY_ROUNDS} {kind:10s} "
                f"RSS {sample.before_kib / 1024:6.1f} → {sample.after_kib / 1024:6.1f} MiB "
                f"for {sample.connections} sockets (opened in {sample.connect_seconds:.1f} s): "
                f"{sample.per_connection_kib:5.1f} KiB/connection"
            )
    return samples


# --- main ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    fanouts: list[Fanout]
    memory: list[MemorySample]


async def _measure(var_dir: Path, accounts: list[Account]) -> Report:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        careloop = ServerProcess("careloop", var_dir)
        plain = ServerProcess("litestar", var_dir)
        fanouts: list[Fanout] = []
        try:
            await asyncio.gather(careloop.start(http), plain.start(http))
            servers = Servers(http, careloop, plain)
            for subscribers, events_per_round, pause in FANOUT:
                fanout = await _fanout(servers, accounts[:subscribers], events_per_round, pause)
                _report_fanout(fanout)
                fanouts.append(fanout)
        finally:
            careloop.stop()
            plain.stop()
        started = time.perf_counter()
        print(f"idle memory: {len(accounts[:IDLE_CONNECTIONS])} sockets, {MEMORY_ROUNDS} rounds per side")
        memory = await _idle_memory(var_dir, http, accounts[:IDLE_CONNECTIONS])
        print(f"  ({time.perf_counter() - started:.1f} s)")
    return Report(fanouts, memory)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed: uvicorn serves on it, so clients and baselines use it too."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _figure(name: str, candidate: float, baseline: float, unit: str, digits: int) -> str:
    return json.dumps(
        {
            "figure": name,
            "value": round(candidate / baseline, 3),
            "candidate": round(candidate, digits),
            "baseline": round(baseline, digits),
            "unit": unit,
        }
    )


def bench() -> int:
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # clean up (drop the database) on SIGTERM too
    _raise_fd_limit()
    var_dir = Path(tempfile.mkdtemp(prefix="careloop-bench-"))
    target = provision(var_dir)
    print(f"engine: {target.description}")
    try:
        _configure_environment(var_dir, target.database_url)
        seeded = time.perf_counter()
        accounts = asyncio.run(_seed(max(USERS, IDLE_CONNECTIONS)))
        print(
            f"seeded {len(accounts)} users with sessions and tokens in {time.perf_counter() - seeded:.1f} s"
        )
        gc.collect()
        gc.freeze()  # the client's own full collections (backend modules are loaded) stay out of the timings
        report = _run(_measure(var_dir, accounts))
    except BenchError as error:
        print(f"bench-realtime failed: {error}", file=sys.stderr)
        return 1
    finally:
        drop(target)
        shutil.rmtree(var_dir, ignore_errors=True)

    print(f"engine: {target.engine}; wall time {time.perf_counter() - started:.1f} s")
    for fanout in report.fanouts:
        careloop, plain = fanout.sides["careloop"], fanout.sides["plain"]
        print(
            f"fanout {fanout.subscribers:5d}: "
            f"careloop p50/p99 {careloop.ms(0.5):6.2f}/{careloop.ms(0.99):6.2f} ms, "
            f"plain {plain.ms(0.5):6.2f}/{plain.ms(0.99):6.2f} ms, "
            f"p99 ratio {careloop.ms(0.99) / plain.ms(0.99):.2f}"
        )
    per_kind = {
        kind: statistics.median(s.per_connection_kib for s in report.memory if s.kind == kind)
        for kind in MEMORY_KINDS
    }
    memory_ratio = per_kind["careloop"] / per_kind["websockets"]
    print(
        f"idle memory (median of {MEMORY_ROUNDS} rounds): careloop {per_kind['careloop']:.1f} KiB/connection,"
        f" plain websockets {per_kind['websockets']:.1f}, ratio {memory_ratio:.2f}"
        f" (plain Litestar socket under uvicorn, for reference: {per_kind['litestar']:.1f})"
    )
    largest = max(report.fanouts, key=lambda fanout: fanout.subscribers)
    print(
        _figure(
            f"fanout_p99_ratio_{largest.subscribers}",
            largest.sides["careloop"].ms(0.99),
            largest.sides["plain"].ms(0.99),
            "ms",
            2,
        )
    )
    print(
        _figure("idle_memory_ratio", per_kind["careloop"], per_kind["websockets"], "KiB/connection", 1),
        flush=True,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime", description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=sorted(SERVERS), help="internal: run one server process")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent", type=int, default=0)
    args = parser.parse_args(argv)
    if args.serve is None:
        return bench()
    _die_with_parent(args.parent)
    _raise_fd_limit()
    SERVERS[args.serve](args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
