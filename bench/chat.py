"""Secure messaging: end-to-end send latency, CareLoop against a plain insert-and-push path
(and the stack's floor: GraphQL doing the plain path's work).

Run with ``make bench-chat`` (or ``python -m bench.chat``)::

    fresh database: PostgreSQL ``careloop_bench_<pid>`` (required: the plain side shares the server)
      ─► migrate ─► 100 clinics, two users each (a membership per user, so each pair passes the
         real "shares an organization" rule), each user with a session row and an access token
         signed with the app's own key ring (no logins) ─► the plain and floor sides' own table
         ``bench_plain_message`` (id, conversation, sender, client_message_id, body, sent_at)
    servers, each in its own process (``python -m bench.chat --serve KIND``), never the client's:
      careloop    create_app() under uvicorn as ``python -m backend serve`` runs it (wsproto,
                  compression off, no transport pings; logging at WARNING without access log, as
                  in bench-realtime); nothing added to the app; in-process bus (no REDIS_URL)
      plain       a minimal Litestar app under the same uvicorn settings: POST /messages
                  (INSERT one row through an asyncpg pool, send one frame to the recipient's
                  socket from an in-process dict, answer JSON); WebSocket /ws/{user}
      floor       Litestar + Strawberry doing the plain side's work (bench/chat_floor.py): POST
                  /execute runs a sendMessage mutation (the same INSERT), WebSocket /graphql
                  delivers it through a graphql-transport-ws subscription
    setup through the API, per pair (A = user 2k, B = user 2k + 1):
      A: startConversation(DIRECT, [B]) ─► B: streamPosition ─► B's socket: connection_init with
      B's token ─► subscribe ConversationEvents(after: position) (the app's own documents);
      plain: B's socket on /ws/B; floor: B's socket subscribed to messages(userId: B)
      every socket is then read by a frame stamper (arrival time on the client's clock)
    load, per rate (50 then 200 messages/s), open loop: message i starts at t0 + i / rate,
      whatever happened to the earlier ones; conversation i mod 100 (round robin), sender A,
      a unique clientMessageId and the same short body on both sides:
      careloop  POST /graphql SendMessage (the app's document, keep-alive httpx client) ─►
                B's socket: the ``next`` frame of MessageSent carrying the message id
      plain     POST /messages ─► B's socket: the frame carrying the row id
      floor     POST /execute sendMessage ─► B's socket: the ``next`` frame carrying the row id
      ─► prime (one message per conversation, each side) ─► warm-up per rate and side
      ─► rounds alternating the order of the sides; after each side's round, wait until every
         frame arrived ─► latency = frame arrival - request start (same clock)
      ─► p50 / p99 per side and rate over every message of the rounds; any HTTP error,
         GraphQL error, unexpected result or missing frame fails the run
    ─► stop the servers ─► drop the database ─► the JSON figure lines, last

Requests go out on keep-alive httpx clients (one per side) whose idle connections expire before
uvicorn's keep-alive timeout. Quicker local runs (not for recorded figures):
``BENCH_RATES=50 BENCH_ROUND_SECONDS=2 python -m bench.chat``.

Settings are read from the environment once, so every variable is set before any backend module
is imported (backend imports live inside functions); server processes inherit the environment.
Server processes die with the bench (PR_SET_PDEATHSIG), even when it is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import websockets
from websockets.asyncio.client import ClientConnection

from backend.realtime import UVICORN_WEBSOCKETS
from bench.database import BenchError, Target, drop, provision
from bench.realtime import (
    CONNECT_CONCURRENCY,
    TRANSPORT_WS,
    _close,
    _configure_environment,
    _die_with_parent,
    _figure,
    _free_port,
    _gather_or_close,
    _percentile,
    _raise_fd_limit,
    _run,
    _terminate,
    _uvicorn,
)

ROOT = Path(__file__).resolve().parents[1]
OPERATIONS = ROOT / "mobile_contract" / "operations"
PAIRS = 100
# messages per second, spread over the PAIRS conversations
RATES = tuple(int(rate) for rate in os.environ.get("BENCH_RATES", "50,200").split(","))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "3"))
WARMUP_SECONDS = float(os.environ.get("BENCH_WARMUP_SECONDS", "1"))
PRIME_RATE = 100  # the first message of every conversation, per side, before any warm-up
DRAIN_TIMEOUT_SECONDS = 15.0
SETUP_CONCURRENCY = 8
HTTP_CONNECTIONS = 64
TARGET_P99_RATIO = 1.5
RATIOS = (("careloop", "plain"), ("floor", "plain"), ("careloop", "floor"))
BODY = "Bench: saw the patient today, results are in the referral. Can you call me back?"
PLAIN_TABLE = """
CREATE TABLE bench_plain_message (
    id uuid PRIMARY KEY,
    conversation uuid NOT NULL,
    sender uuid NOT NULL,
    client_message_id text NOT NULL,
    body text NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now()
)
"""
PLAIN_INSERT = (
    "INSERT INTO bench_plain_message (id, conversation, sender, client_message_id, body) "
    "VALUES ($1, $2, $3, $4, $5)"
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def _operation(name: str) -> str:
    """An operation of the mobile contract as the apps send it: with the fragments it spreads."""
    available = {path.stem: path.read_text() for path in (OPERATIONS / "fragments").glob("*.graphql")}
    document, included = (OPERATIONS / f"{name}.graphql").read_text(), set[str]()
    while wanted := {n for n in available if f"...{n}" in document} - included:
        included |= wanted
        document = "\n".join([document, *(available[n] for n in sorted(wanted))])
    return document


SEND_MESSAGE = _operation("SendMessage")
START_CONVERSATION = _operation("StartConversation")
STREAM_POSITION = _operation("StreamPosition")
CONVERSATION_EVENTS = _operation("ConversationEvents")


def _global_id(type_name: str, raw_id: str) -> str:
    import base64

    return base64.urlsafe_b64encode(f"{type_name}:{raw_id}".encode()).decode().rstrip("=")


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    user_id: str
    token: str


@dataclass(slots=True)
class Pair:
    """One DIRECT conversation: A sends, B listens."""

    sender: Account
    recipient: Account
    conversation_id: str = ""  # CareLoop's global id
    plain_conversation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    stream_position: int = 0


async def _seed(pairs: int, database_url: str) -> list[Pair]:
    """``pairs`` clinics with two member users each; sessions and tokens; the plain table."""
    import asyncpg

    from backend.accounts import repository as accounts
    from backend.accounts.codes import OrganizationKind, Role
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
    found: list[Pair] = []
    try:
        now = utcnow()
        async with database.unit_of_work():

            async def account(n: int, organization_id: uuid.UUID) -> Account:
                user_id = await accounts.insert_user(
                    email=f"chat{n:04d}@bench.example",
                    display_name=f"Chat User {n}",
                    home_organization_id=organization_id,
                    password_hash=None,
                )
                await accounts.replace_roles(user_id, organization_id, [Role.REFERRING_PROVIDER])
                session_id = await auth.insert_session(user_id, "bench-device", now + timedelta(days=1))
                token, _ = tokens.issue(user_id, session_id, now)
                return Account(str(user_id), token)

            for k in range(pairs):
                organization = Organization(name=f"Bench Clinic {k}", kind=OrganizationKind.CLINIC.value)
                await organization.save()
                organization_id = uuid.UUID(str(organization.id))
                found.append(
                    Pair(await account(2 * k, organization_id), await account(2 * k + 1, organization_id))
                )
    finally:
        await database.stop()
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(PLAIN_TABLE)
    finally:
        await connection.close()
    return found


# --- server processes ------------------------------------------------------------------------


def _serve_careloop(port: int) -> None:
    """The real app, nothing added, under uvicorn as ``python -m backend serve`` runs it."""
    from backend.app import create_app
    from backend.settings import get_settings

    _uvicorn(create_app(get_settings()), port, ws=UVICORN_WEBSOCKETS)


def _serve_plain(port: int) -> None:
    """The baseline: one INSERT through an asyncpg pool, one frame to the recipient's socket."""
    import asyncpg
    from litestar import Litestar, Request, Response, WebSocket, get, post, websocket
    from litestar.exceptions import WebSocketDisconnect

    from backend.settings import get_settings

    settings = get_settings()
    sockets: dict[str, WebSocket[Any, Any, Any]] = {}
    pools: list[asyncpg.Pool] = []

    async def open_pool() -> None:
        pools.append(
            await asyncpg.create_pool(
                settings.database_url,
                min_size=settings.postgres_pool_min,
                max_size=settings.postgres_pool_max,
            )
        )

    async def close_pool() -> None:
        for pool in pools:
            await pool.close()

    @websocket("/ws/{user_id:str}")
    async def hold(socket: WebSocket[Any, Any, Any], user_id: str) -> None:
        await socket.accept()
        sockets[user_id] = socket
        try:
            while True:
                await socket.receive_data("text")
        except WebSocketDisconnect:
            pass
        finally:
            if sockets.get(user_id) is socket:
                del sockets[user_id]

    @post("/messages", status_code=200)
    async def send(request: Request[Any, Any, Any]) -> Response[bytes]:
        new = _decoder.decode(await request.body())
        message_id = uuid.uuid4()
        await pools[0].execute(
            PLAIN_INSERT,
            message_id,
            uuid.UUID(new["conversationId"]),
            uuid.UUID(new["senderId"]),
            new["clientMessageId"],
            new["body"],
        )
        recipient = sockets.get(new["recipientId"])
        if recipient is not None:
            frame = {
                "type": "MESSAGE_SENT",
                "conversationId": new["conversationId"],
                "messageId": str(message_id),
                "senderId": new["senderId"],
            }
            await recipient.send_data(_encoder.encode(frame).decode())
        return Response(
            _encoder.encode({"id": str(message_id), "clientMessageId": new["clientMessageId"]}),
            media_type="application/json",
        )

    @get("/status", cache=False)
    async def status() -> dict[str, int]:
        return {"sockets": len(sockets)}

    app = Litestar(
        route_handlers=[hold, send, status],
        signature_namespace={"Response": Response},  # the handlers' annotations are strings
        on_startup=[open_pool],
        on_shutdown=[close_pool],
        debug=False,
        openapi_config=None,
        logging_config=None,
    )
    _uvicorn(app, port, ws=UVICORN_WEBSOCKETS)


def _serve_floor(port: int) -> None:
    """The fixed stack doing the plain side's work: see bench/chat_floor.py."""
    from bench.chat_floor import create_floor_app

    _uvicorn(create_floor_app(PLAIN_INSERT), port, ws=UVICORN_WEBSOCKETS)


SERVERS: dict[str, Callable[[int], None]] = {
    "careloop": _serve_careloop,
    "floor": _serve_floor,
    "plain": _serve_plain,
}
READY_PATHS = {"careloop": "/healthz", "floor": "/status", "plain": "/status"}


class ServerProcess:
    """One server in its own process: its CPU is its own, not the client's."""

    def __init__(self, kind: str, var_dir: Path) -> None:
        self.kind = kind
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = var_dir / f"server-{kind}-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, http: httpx.AsyncClient, within: float = 60.0) -> ServerProcess:
        command = [sys.executable, "-m", "bench.chat", "--serve", self.kind, "--port", str(self.port)]
        command += ["--parent", str(os.getpid())]
        self.process = self._spawn(command)
        deadline = time.monotonic() + within
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"the {self.kind} server exited at start-up:\n{self.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(self.base_url + READY_PATHS[self.kind])).status_code == 200:
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

    def cpu_seconds(self) -> float:
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

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


class _Stamper(asyncio.Protocol):
    """Takes over an open socket's transport and stamps each server frame in ``data_received``
    (as bench/realtime.py's stamper: the library's ``recv`` would add client cost per frame).
    Server frames are unmasked and pings are off, so every frame is a delivery."""

    def __init__(self, side: Side, index: int) -> None:
        self._side = side
        self._index = index
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
            self._side.arrived((now, self._index, buffer[0] & 0x0F, buffer[start : start + length]))
            buffer = buffer[start + length :]
        self._buffer = buffer

    def connection_lost(self, exc: Exception | None) -> None:
        return None


@dataclass(slots=True)
class Sent:
    pair: int
    started: float
    answered: float = 0.0
    key: str = ""  # the message id the recipient's frame must carry
    error: str = ""


@dataclass(slots=True)
class Round:
    latencies: list[float]  # frame arrival - request start, s
    answers: list[float]  # response - request start, s
    lag: list[float]  # request start - scheduled start, s
    server_cpu: float
    seconds: float


class Side:
    """One side's server, its recipients' sockets, and how it sends one message."""

    def __init__(self, name: str, server: ServerProcess, pairs: list[Pair], http: httpx.AsyncClient) -> None:
        self.name = name
        self.server = server
        self.pairs = pairs
        self.http = http
        self.connections: list[ClientConnection] = []
        self.arrivals: list[tuple[float, int, int, bytes]] = []
        self.sent_count = 0  # also the round-robin position
        self.expected = 0  # frames the current run waits for
        self._all_arrived = asyncio.Event()
        senders = {"careloop": self._send_careloop, "floor": self._send_floor, "plain": self._send_plain}
        self.send: Callable[[int, str], Awaitable[Sent]] = senders[name]
        self._headers = [
            {"authorization": f"Bearer {pair.sender.token}", "content-type": "application/json"}
            for pair in pairs
        ]
        self._sender_ids = [_global_id("User", pair.sender.user_id) for pair in pairs]

    def arrived(self, arrival: tuple[float, int, int, bytes]) -> None:
        self.arrivals.append(arrival)
        if len(self.arrivals) >= self.expected:
            self._all_arrived.set()

    def stamp(self, connections: list[ClientConnection]) -> None:
        self.connections = connections
        for index, connection in enumerate(connections):
            connection.transport.set_protocol(_Stamper(self, index))

    async def close(self) -> None:
        for connection in self.connections:
            connection.transport.set_protocol(connection)
        await _close(self.connections)

    async def _send_careloop(self, index: int, client_message_id: str) -> Sent:
        pair = self.pairs[index]
        message = {"conversationId": pair.conversation_id, "clientMessageId": client_message_id, "body": BODY}
        variables = {"input": message}
        body = {"query": SEND_MESSAGE, "operationName": "SendMessage", "variables": variables}

        def key_of(answer: dict[str, Any]) -> str:
            result = ((answer.get("data") or {}).get("sendMessage")) or {}
            message = result.get("chatMessage") or {}
            if answer.get("errors") or result.get("__typename") != "MessageSuccess":
                raise ValueError(f"GraphQL: {str(answer)[:300]}")
            if message.get("body") != BODY or message.get("senderId") != self._sender_ids[index]:
                raise ValueError(f"unexpected message: {str(message)[:300]}")
            return str(message["id"])

        return await self._post("/graphql", body, index, key_of)

    async def _send_floor(self, index: int, client_message_id: str) -> Sent:
        from bench.chat_floor import SEND_MESSAGE as FLOOR_SEND_MESSAGE

        body = {
            "query": FLOOR_SEND_MESSAGE,
            "operationName": "SendMessage",
            "variables": {"input": self._plain_message(index, client_message_id)},
        }

        def key_of(answer: dict[str, Any]) -> str:
            message = (answer.get("data") or {}).get("sendMessage") or {}
            if answer.get("errors") or message.get("clientMessageId") != client_message_id:
                raise ValueError(f"GraphQL: {str(answer)[:300]}")
            return str(message["id"])

        return await self._post("/execute", body, index, key_of)

    async def _send_plain(self, index: int, client_message_id: str) -> Sent:
        def key_of(answer: dict[str, Any]) -> str:
            if answer.get("clientMessageId") != client_message_id:
                raise ValueError(f"unexpected answer: {str(answer)[:300]}")
            return str(answer["id"])

        return await self._post("/messages", self._plain_message(index, client_message_id), index, key_of)

    def _plain_message(self, index: int, client_message_id: str) -> dict[str, str]:
        """The plain and floor sides' message: the same fields, the same table."""
        pair = self.pairs[index]
        return {
            "conversationId": pair.plain_conversation_id,
            "senderId": pair.sender.user_id,
            "recipientId": pair.recipient.user_id,
            "clientMessageId": client_message_id,
            "body": BODY,
        }

    async def _post(
        self, path: str, body: dict[str, Any], index: int, key_of: Callable[[dict[str, Any]], str]
    ) -> Sent:
        """POST one send and time it; ``key_of`` checks the answer and names the message id the
        recipient's frame must carry (or raises ValueError saying what is wrong)."""
        content = _encoder.encode(body)
        sent = Sent(index, time.perf_counter())
        try:
            response = await self.http.post(
                self.server.base_url + path, content=content, headers=self._headers[index]
            )
            sent.answered = time.perf_counter()
            if response.status_code != 200:
                sent.error = f"HTTP {response.status_code}: {response.text[:200]}"
            else:
                sent.key = key_of(_decoder.decode(response.content))
        except httpx.HTTPError as error:
            sent.error = repr(error)
        except ValueError as error:
            sent.error = str(error)
        return sent

    def frame_key(self, index: int, opcode: int, payload: bytes) -> str:
        """The message id a frame carries, after checking it is the expected delivery."""
        if opcode != 0x1:
            raise BenchError(f"{self.name}: a non-text frame (opcode {opcode}) on socket {index}")
        frame = _decoder.decode(payload)
        pair = self.pairs[index]
        if self.name == "plain":
            if frame.get("conversationId") != pair.plain_conversation_id:
                raise BenchError(f"plain: frame for another conversation on socket {index}: {frame}")
            return str(frame["messageId"])
        if self.name == "floor":
            event = ((frame.get("payload") or {}).get("data") or {}).get("messages") or {}
            if frame.get("type") != "next" or event.get("conversationId") != pair.plain_conversation_id:
                raise BenchError(f"floor: unexpected frame on socket {index}: {payload[:300]!r}")
            return str(event["messageId"])
        event = ((frame.get("payload") or {}).get("data") or {}).get("conversationEvents") or {}
        if (
            frame.get("type") != "next"
            or event.get("__typename") != "MessageSent"
            or event.get("conversationId") != pair.conversation_id
            or event.get("senderId") != self._sender_ids[index]
        ):
            raise BenchError(f"careloop: unexpected frame on socket {index}: {payload[:300]!r}")
        return str(event["messageId"])

    async def run(self, rate: float, count: int, label: str) -> Round:
        """``count`` messages, open loop at ``rate``; then every frame, or a BenchError."""
        self.arrivals.clear()
        self.expected = count
        self._all_arrived.clear()
        cpu = self.server.cpu_seconds()
        started = time.perf_counter()
        t0 = started + 0.005
        lag: list[float] = []
        tasks = []
        for i in range(count):
            scheduled = t0 + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            lag.append(time.perf_counter() - scheduled)
            index = self.sent_count % len(self.pairs)
            self.sent_count += 1
            client_message_id = f"bench-{self.name}-{label}-{i:05d}-{uuid.uuid4().hex[:8]}"
            tasks.append(asyncio.create_task(self.send(index, client_message_id)))
        sends: list[Sent] = await asyncio.gather(*tasks)
        errors = [s for s in sends if s.error]
        if errors:
            raise BenchError(
                f"{self.name} ({label}): {len(errors)} of {count} sends failed; first: {errors[0].error}"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_arrived.wait(), DRAIN_TIMEOUT_SECONDS)
        await asyncio.sleep(0.02)  # anything extra (a duplicate) shows up too
        server_cpu = self.server.cpu_seconds() - cpu
        seconds = time.perf_counter() - started
        arrived: dict[str, float] = {}
        for now, index, opcode, payload in self.arrivals:
            key = self.frame_key(index, opcode, payload)
            if key in arrived:
                raise BenchError(f"{self.name} ({label}): message {key} delivered twice")
            arrived[key] = now
        wanted = {s.key for s in sends}
        dropped, extra = wanted - arrived.keys(), arrived.keys() - wanted
        if dropped or extra:
            raise BenchError(
                f"{self.name} ({label}): {len(dropped)} of {count} messages never reached the "
                f"recipient within {DRAIN_TIMEOUT_SECONDS:g} s, {len(extra)} unexpected frames"
            )
        return Round(
            latencies=[arrived[s.key] - s.started for s in sends],
            answers=[s.answered - s.started for s in sends],
            lag=lag,
            server_cpu=server_cpu,
            seconds=seconds,
        )


async def _graphql(
    http: httpx.AsyncClient, url: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        url, json={"query": query, "variables": variables}, headers={"authorization": f"Bearer {token}"}
    )
    answer = response.json()
    if response.status_code != 200 or answer.get("errors"):
        raise BenchError(f"setup request failed ({response.status_code}): {str(answer)[:300]}")
    data: dict[str, Any] = answer["data"]
    return data


async def _open_conversations(http: httpx.AsyncClient, server: ServerProcess, pairs: list[Pair]) -> None:
    """A starts the DIRECT conversation with B (the real access rule); B reads its stream position."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)
    url = server.base_url + "/graphql"

    async def one(pair: Pair) -> None:
        async with gate:
            data = await _graphql(
                http,
                url,
                pair.sender.token,
                START_CONVERSATION,
                {"input": {"kind": "DIRECT", "memberIds": [_global_id("User", pair.recipient.user_id)]}},
            )
            result = data["startConversation"]
            if result["__typename"] != "ConversationSuccess":
                raise BenchError(f"startConversation refused: {result}")
            pair.conversation_id = result["conversation"]["id"]
            position = await _graphql(http, url, pair.recipient.token, STREAM_POSITION, {})
            pair.stream_position = int(position["streamPosition"])

    await asyncio.gather(*(one(pair) for pair in pairs))


async def _open_careloop_sockets(server: ServerProcess, pairs: list[Pair]) -> list[ClientConnection]:
    """B's socket as the app opens it: connection_init with the token, ack, subscribe (after:)."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(pair: Pair) -> ClientConnection:
        async with gate:
            connection = await websockets.connect(
                server.ws_url + "/graphql",
                subprotocols=[TRANSPORT_WS],
                compression=None,
                ping_interval=None,
                open_timeout=60,
            )
            await connection.send(
                _encoder.encode(
                    {"type": "connection_init", "payload": {"accessToken": pair.recipient.token}}
                ).decode()
            )
            ack = _decoder.decode(await asyncio.wait_for(connection.recv(), 60))
            if ack.get("type") != "connection_ack":
                await connection.close()
                raise BenchError(f"connection_init refused: {ack}")
            subscribe = {
                "id": "1",
                "type": "subscribe",
                "payload": {
                    "query": CONVERSATION_EVENTS,
                    "operationName": "ConversationEvents",
                    "variables": {"after": pair.stream_position},
                },
            }
            await connection.send(_encoder.encode(subscribe).decode())
            return connection

    return await _gather_or_close([one(pair) for pair in pairs])


async def _open_floor_sockets(
    http: httpx.AsyncClient, server: ServerProcess, pairs: list[Pair]
) -> list[ClientConnection]:
    """B's socket on the floor server: connection_init, ack, subscribe to B's messages."""
    from bench.chat_floor import MESSAGES

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(pair: Pair) -> ClientConnection:
        async with gate:
            connection = await websockets.connect(
                server.ws_url + "/graphql",
                subprotocols=[TRANSPORT_WS],
                compression=None,
                ping_interval=None,
                open_timeout=60,
            )
            await connection.send(_encoder.encode({"type": "connection_init"}).decode())
            ack = _decoder.decode(await asyncio.wait_for(connection.recv(), 60))
            if ack.get("type") != "connection_ack":
                await connection.close()
                raise BenchError(f"floor: connection_init refused: {ack}")
            subscribe = {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": MESSAGES, "variables": {"userId": pair.recipient.user_id}},
            }
            await connection.send(_encoder.encode(subscribe).decode())
            return connection

    connections = await _gather_or_close([one(pair) for pair in pairs])
    await _wait_for_sockets(http, server, connections, len(pairs))
    return connections


async def _wait_for_sockets(
    http: httpx.AsyncClient, server: ServerProcess, connections: list[ClientConnection], count: int
) -> None:
    deadline = time.monotonic() + 30
    while (await http.get(server.base_url + "/status")).json()["sockets"] != count:
        if time.monotonic() > deadline:
            await _close(connections)
            raise BenchError(f"the {server.kind} server does not hold every recipient's socket")
        await asyncio.sleep(0.05)


async def _open_plain_sockets(
    http: httpx.AsyncClient, server: ServerProcess, pairs: list[Pair]
) -> list[ClientConnection]:
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(pair: Pair) -> ClientConnection:
        async with gate:
            return await websockets.connect(
                f"{server.ws_url}/ws/{pair.recipient.user_id}",
                compression=None,
                ping_interval=None,
                open_timeout=60,
            )

    connections = await _gather_or_close([one(pair) for pair in pairs])
    await _wait_for_sockets(http, server, connections, len(pairs))
    return connections


# --- measuring -------------------------------------------------------------------------------


@dataclass(slots=True)
class SideSample:
    latencies: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    lag: list[float] = field(default_factory=list)
    round_p99: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    messages: int = 0

    def ms(self, fraction: float, values: Sequence[float] | None = None) -> float:
        return 1000 * _percentile(self.latencies if values is None else values, fraction)

    def add(self, result: Round) -> None:
        self.latencies.extend(result.latencies)
        self.answers.extend(result.answers)
        self.lag.extend(result.lag)
        self.round_p99.append(_percentile(result.latencies, 0.99))
        self.server_cpu += result.server_cpu
        self.messages += len(result.latencies)


@dataclass(slots=True)
class RateResult:
    rate: int
    sides: dict[str, SideSample]
    seconds: float

    def ratio(self, fraction: float, candidate: str = "careloop", baseline: str = "plain") -> float:
        return self.sides[candidate].ms(fraction) / self.sides[baseline].ms(fraction)


async def _measure_rate(sides: dict[str, Side], rate: int) -> RateResult:
    started = time.perf_counter()
    per_round = round(rate * ROUND_SECONDS)
    for side in sides.values():
        await side.run(rate, max(1, round(rate * WARMUP_SECONDS)), f"{rate}-warm")
    samples = {name: SideSample() for name in sides}
    for round_number in range(ROUNDS):
        order = list(sides) if round_number % 2 == 0 else list(reversed(sides))
        for name in order:
            samples[name].add(await sides[name].run(rate, per_round, f"{rate}-r{round_number}"))
    return RateResult(rate, samples, time.perf_counter() - started)


def _report_rate(result: RateResult) -> None:
    per_side = result.sides["careloop"].messages
    print(
        f"{result.rate} messages/s: {per_side} messages per side in {ROUNDS} alternating rounds of "
        f"{ROUND_SECONDS:g} s (+{WARMUP_SECONDS:g} s warm-up per side), {result.seconds:.1f} s; "
        "errors 0, dropped 0"
    )
    labels = {
        "careloop": "careloop (sendMessage → conversationEvents)",
        "floor": "floor (Strawberry INSERT → subscription)",
        "plain": "plain (INSERT → socket)",
    }
    for name, sample in result.sides.items():
        print(
            f"  {labels[name]:44s} p50 {sample.ms(0.5):7.2f} ms  p99 {sample.ms(0.99):7.2f} ms"
            f"  max {1000 * max(sample.latencies):7.2f} ms"
        )
        print(
            f"  {'':44s} response p50/p99 {sample.ms(0.5, sample.answers):.2f}/"
            f"{sample.ms(0.99, sample.answers):.2f} ms; round p99s "
            f"{', '.join(f'{1000 * p:.1f}' for p in sample.round_p99)} ms; server CPU "
            f"{1000 * sample.server_cpu / sample.messages:.2f} ms/message; send start lag p99 "
            f"{sample.ms(0.99, sample.lag):.2f} ms"
        )
    for candidate, baseline in RATIOS:
        print(
            f"  ratio {candidate} / {baseline}: p50 {result.ratio(0.5, candidate, baseline):.2f}, "
            f"p99 {result.ratio(0.99, candidate, baseline):.2f}"
        )


async def _measure(var_dir: Path, pairs: list[Pair]) -> list[RateResult]:
    # Idle connections expire on the client well before uvicorn's 5 s keep-alive timeout: a request
    # never goes out on a connection the server is closing at that moment (a ReadError otherwise).
    limits = httpx.Limits(
        max_connections=HTTP_CONNECTIONS, max_keepalive_connections=HTTP_CONNECTIONS, keepalive_expiry=2.0
    )
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as careloop_http,
        httpx.AsyncClient(timeout=30, limits=limits) as floor_http,
        httpx.AsyncClient(timeout=30, limits=limits) as plain_http,
    ):
        careloop = ServerProcess("careloop", var_dir)
        floor = ServerProcess("floor", var_dir)
        plain = ServerProcess("plain", var_dir)
        sides: dict[str, Side] = {}
        try:
            await asyncio.gather(
                careloop.start(careloop_http), floor.start(floor_http), plain.start(plain_http)
            )
            started = time.perf_counter()
            await _open_conversations(careloop_http, careloop, pairs)
            sides = {
                "careloop": Side("careloop", careloop, pairs, careloop_http),
                "floor": Side("floor", floor, pairs, floor_http),
                "plain": Side("plain", plain, pairs, plain_http),
            }
            sides["careloop"].stamp(await _open_careloop_sockets(careloop, pairs))
            sides["floor"].stamp(await _open_floor_sockets(floor_http, floor, pairs))
            sides["plain"].stamp(await _open_plain_sockets(plain_http, plain, pairs))
            for side in sides.values():  # every conversation's first message, every socket live
                await side.run(PRIME_RATE, len(pairs), "prime")
            print(
                f"setup: {len(pairs)} DIRECT conversations (startConversation), a subscribed socket per "
                f"recipient on each side, one message each ({time.perf_counter() - started:.1f} s)"
            )
            results = []
            for rate in RATES:
                result = await _measure_rate(sides, rate)
                _report_rate(result)
                results.append(result)
            return results
        finally:
            for side in sides.values():
                await side.close()
            for server in (careloop, floor, plain):
                server.stop()


def _require_postgres(target: Target) -> None:
    if target.engine != "postgresql":
        raise BenchError("the plain side needs PostgreSQL (set BENCH_POSTGRES_URL)")


def bench() -> int:
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # clean up (drop the database) on SIGTERM too
    _raise_fd_limit()
    var_dir = Path(tempfile.mkdtemp(prefix="careloop-bench-"))
    target = provision(var_dir)
    print(f"engine: {target.description}")
    try:
        _require_postgres(target)
        _configure_environment(var_dir, target.database_url)
        seeded = time.perf_counter()
        pairs = asyncio.run(_seed(PAIRS, target.database_url))
        print(
            f"seeded {2 * len(pairs)} users in {len(pairs)} clinics with sessions and tokens "
            f"in {time.perf_counter() - seeded:.1f} s"
        )
        gc.collect()
        gc.freeze()  # the client's own full collections stay out of the timings
        results = _run(_measure(var_dir, pairs))
    except BenchError as error:
        print(f"bench-chat failed: {error}", file=sys.stderr)
        return 1
    finally:
        drop(target)
        shutil.rmtree(var_dir, ignore_errors=True)

    print(f"engine: {target.engine}; wall time {time.perf_counter() - started:.1f} s")
    for result in results:
        careloop, floor, plain = (result.sides[name] for name in ("careloop", "floor", "plain"))
        print(
            f"{result.rate:4d} msg/s: careloop p50/p99 {careloop.ms(0.5):6.2f}/{careloop.ms(0.99):6.2f} ms, "
            f"floor {floor.ms(0.5):6.2f}/{floor.ms(0.99):6.2f} ms, "
            f"plain {plain.ms(0.5):6.2f}/{plain.ms(0.99):6.2f} ms; "
            f"p99 ratio to plain: careloop {result.ratio(0.99):.2f}, floor {result.ratio(0.99, 'floor'):.2f}"
        )
    last = results[-1]
    verdict = "met" if last.ratio(0.99) <= TARGET_P99_RATIO else "missed"
    print(f"target: careloop p99 within {TARGET_P99_RATIO:g}x plain at {last.rate} msg/s: {verdict}")
    # the headline (CareLoop ÷ plain, p99, the highest rate) is printed last
    figures = [(f"chat_floor_p99_ratio_{r.rate}", r, 0.99, "floor", "plain") for r in results]
    figures += [(f"chat_p99_over_floor_ratio_{r.rate}", r, 0.99, "careloop", "floor") for r in results]
    figures += [(f"chat_p50_ratio_{r.rate}", r, 0.5, "careloop", "plain") for r in results]
    figures += [(f"chat_p99_ratio_{r.rate}", r, 0.99, "careloop", "plain") for r in results]
    for name, result, fraction, candidate, baseline in figures:
        print(
            _figure(name, result.sides[candidate].ms(fraction), result.sides[baseline].ms(fraction), "ms", 2),
            flush=True,
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chat", description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=sorted(SERVERS), help="internal: run one server process")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--parent", type=int, default=0)
    args = parser.parse_args(argv)
    if args.serve is None:
        return bench()
    _die_with_parent(args.parent)
    _raise_fd_limit()
    with contextlib.suppress(KeyboardInterrupt):
        SERVERS[args.serve](args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
