"""Push dispatch: throughput of the real dispatcher against a plain httpx HTTP/2 client.

Run with ``make bench-push`` (or ``python -m bench.push``)::

    fresh database: PostgreSQL ``careloop_bench_<pid>`` (required: production claims rows with
      FOR UPDATE SKIP LOCKED) ─► migrate ─► 500 users, 10 devices each (5,000 devices: the rows
      registerPushDevice writes, inserted 1,000 at a time; mixed platforms and locales; devices
      pruned by a round are inserted again the same way)
    fake FCM in its own process: ``python -m tools.fake_fcm`` (uvicorn on uvloop, HTTP/1.1),
      answering every send after 20 ms; 1% QUOTA_EXCEEDED (429, Retry-After: 1) and 0.5%
      UNREGISTERED (404), drawn from a seeded generator that is reset before every round
    candidate in its own process: ``python -m backend worker`` as production runs it (the real
      Dispatcher and FcmSender through firebase-admin, whose httpx client runs over aiohttp's
      keep-alive pool, PUSH_CONCURRENCY=100, the fake's FCM_SEND_URL and service account,
      PUSH_BACKOFF_MS=500: see "retries" below)
    baseline in the bench process: a new ``httpx.AsyncClient(http2=True)`` per round (default
      limits: against the HTTP/1.1 fake, most sends open a connection of their own), a bearer
      token from the fake's token endpoint, at most 100 requests in
      flight, the same bodies byte for byte (the sender's own encoding, done before timing):
      200 done, 429 sleep Retry-After (outside the concurrency bound) and send again, 404
      UNREGISTERED dropped
    warm-up per side: 200 pushes without failures (the worker's first OAuth token, both sides'
      first connections), not timed
    rounds, alternating which side goes first; before each, the fake is reset (delay, rates and
      seed set again, records cleared):
      candidate  devices the previous round pruned are registered again ─► earlier rows deleted
                 (VACUUM) ─► ten notify() calls, each a NEW_MESSAGE to 50 users in its own unit of
                 work (one cause, one transaction): 5,000 outbox rows exactly as production
                 writes them, due a minute later ─► one UPDATE makes them all due at the same
                 instant t0, 0.3 s later (queueing takes 0.75-1.8 s here, too long to aim at t0)
                 ─► the worker (PUSH_IDLE_POLL_MS=250, so it sees the rows before t0) wakes at t0
                 ─► timed from t0 until no row is PENDING (polled every 10 ms)
      baseline   the same notify() calls in units of work that are rolled back: the 5,000 rows
                 a round writes (ids = pushIds, tokens, stored messages) ─► encoded; both done
                 once, in the first round, and sent again in the second (the fake is reset in
                 between) ─► timed from the first request until every push is answered for good
      throughput = 5,000 / seconds, retries included
    checks, every round, both sides (from the fake's records; a failure exits 1):
      every push that was not UNREGISTERED delivered exactly once (its data's pushId), nothing
      sent after its final answer, nothing aborted, no other error; every 429 followed by a
      retry no sooner than Retry-After after the 429 was written (2 ms allowance for the fake's
      own bookkeeping) that ends delivered (or UNREGISTERED); candidate also: every row SENT or
      FAILED, SENT rows = delivered pushIds, FAILED rows = UNREGISTERED pushIds with reason
      UNREGISTERED and their devices deleted, every other device still there, attempts = sends
    ─► stop the worker and the fake ─► drop the database ─► the JSON figure lines, last
       push_throughput_ratio

Retries: the fake's Retry-After is whole seconds, so every 429'd push costs at least one second.
The worker's backoff base is 500 ms (production: 2 s): its first two retries then wait exactly
Retry-After, as the baseline does, instead of up to 2 s of jitter that would measure the backoff
setting rather than the dispatcher. Both sides therefore wait the same second for their last
retries; ``push_first_pass_ratio`` (5,000 / time until every push had its first answer) shows
the difference without that shared second.

Settings are read from the environment once, so every variable is set before any backend module
is imported (backend imports live inside functions); the worker inherits the environment. The
worker and the fake die with the bench (PR_SET_PDEATHSIG), even when it is killed. Quicker
local runs (not for recorded figures): ``BENCH_ROUNDS=1 python -m bench.push``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import io
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.database import BenchError, Target, drop, provision
from bench.realtime import _configure_environment, _figure, _free_port, _terminate

ROOT = Path(__file__).resolve().parents[1]
USERS = 500
DEVICES_PER_USER = 10
PUSHES = USERS * DEVICES_PER_USER  # one row per device and round
RECIPIENTS = 50  # users per notify(): 500 rows (one INSERT takes at most 32,767 parameters)
WARMUP_USERS = 20  # 200 pushes per side
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
CONCURRENCY = int(os.environ.get("BENCH_PUSH_CONCURRENCY", "100"))
FCM_DELAY_MS = 20
RATES = {"QUOTA_EXCEEDED": 0.01, "UNREGISTERED": 0.005}
RETRY_AFTER_SECONDS = 1
SEED = 20261129
BACKOFF_MS = 500
GRACE_MS = 60_000  # rows are queued due a minute later, then all made due at t0 in one UPDATE
START_MARGIN_SECONDS = 0.3  # from that UPDATE to t0: the worker's idle poll (250 ms) sees the rows
IDLE_POLL_MS = 250  # production: 1,000; the worker must see the rows before they are due
POLL_SECONDS = 0.01
ROUND_TIMEOUT_SECONDS = 40.0
RETRY_ALLOWANCE_SECONDS = 0.002
APP_VERSION = "1.4.0"  # of every bench device
TARGET_RATIO = 0.8
FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
PR_SET_PDEATHSIG = 1
CANDIDATE, BASELINE = "dispatcher", "plain"


# --- processes -------------------------------------------------------------------------------


def _die_with_us(parent: int) -> Callable[[], None]:
    """preexec_fn: SIGKILL the child when the bench ends, however it ends (kept across exec)."""

    def arm() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return arm


class Child:
    """A process of its own (the fake or the worker), its log, its CPU time."""

    def __init__(
        self, name: str, command: list[str], var_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self.log = var_dir / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                command,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_die_with_us(os.getpid()),  # noqa: PLW1509 - no threads in the bench yet
            )

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise BenchError(f"the {self.name} exited ({self.process.returncode}):\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def _time_wait() -> int:
    """TCP sockets in TIME_WAIT (each HTTP/1.1 connection httpx closes leaves one for 60 s)."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            fields = line.split()
            return int(fields[fields.index("tw") + 1])
    return 0


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class Fake:
    """The fake FCM in its own process, driven through its JSON control API."""

    def __init__(self, var_dir: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.account = var_dir / "fake-fcm-service-account.json"
        command = [sys.executable, "-m", "tools.fake_fcm", "--port", str(self.port)]
        command += ["--service-account-out", str(self.account)]
        self.child = Child("fake-fcm", command, var_dir)
        self.http = httpx.AsyncClient(base_url=self.url, timeout=30)

    @property
    def send_url_template(self) -> str:
        return f"{self.url}/v1/projects/{{0}}/messages:send"

    async def ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        while True:
            self.child.alive()
            with contextlib.suppress(httpx.HTTPError):
                if (await self.http.get("/_fake/health")).status_code == 200 and self.account.exists():
                    return
            if time.monotonic() > deadline:
                raise BenchError(f"the fake FCM did not start within {within:g} s:\n{self.child.tail()}")
            await asyncio.sleep(0.05)

    async def _post(self, path: str, payload: dict[str, Any] | None = None) -> None:
        response = await self.http.post(path, json=payload or {})
        if response.status_code != 200:
            raise BenchError(f"fake FCM {path}: {response.status_code} {response.text[:200]}")

    async def prepare(self, *, failures: bool) -> None:
        """Forget every record, answer after FCM_DELAY_MS, and (for rounds) the seeded failures."""
        await self._post("/_fake/reset")
        await self._post("/_fake/delay", {"delay_ms": FCM_DELAY_MS})
        if failures:
            await self._post(
                "/_fake/rates", {"rates": RATES, "retry_after": RETRY_AFTER_SECONDS, "seed": SEED}
            )

    async def received(self) -> list[dict[str, Any]]:
        response = await self.http.get("/_fake/received")
        records: list[dict[str, Any]] = response.json()
        return records

    async def close(self) -> None:
        await self.http.aclose()
        self.child.stop()


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceSpec:
    """One registered device, as the app registers it (registerPushDevice)."""

    user_id: uuid.UUID
    device_id: str
    platform: str
    token: str
    locale: str


@dataclass(frozen=True, slots=True)
class Queued:
    """One outbox row as notify() wrote it, with its device's token and locale."""

    id: uuid.UUID
    device: uuid.UUID
    message: dict[str, Any]
    token: str
    locale: str


def _specs(users: Sequence[uuid.UUID]) -> list[DeviceSpec]:
    locales = ("en", "en-US", "es", "fr")
    return [
        DeviceSpec(
            user_id=user,
            device_id=f"device-{n}",
            platform="IOS" if n % 2 else "ANDROID",
            token=f"bench-{u:03d}-{n}-{uuid.uuid4().hex}",
            locale=locales[(u + n) % len(locales)],
        )
        for u, user in enumerate(users)
        for n in range(DEVICES_PER_USER)
    ]


async def _seed(database: Any) -> tuple[list[uuid.UUID], list[DeviceSpec]]:
    from backend.accounts import repository as accounts
    from backend.accounts.codes import OrganizationKind, Role
    from backend.accounts.tables import Organization
    from backend.migrations_tools import migrate

    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates every migration
        await migrate()
    await database.start()
    users: list[uuid.UUID] = []
    async with database.unit_of_work():
        organization = Organization(name="Bench Clinic", kind=OrganizationKind.CLINIC.value)
        await organization.save()
        organization_id = uuid.UUID(str(organization.id))
        for n in range(USERS):
            user_id = await accounts.insert_user(
                email=f"push{n:04d}@bench.example",
                display_name=f"Push User {n}",
                home_organization_id=organization_id,
                password_hash=None,
            )
            await accounts.replace_roles(user_id, organization_id, [Role.REFERRING_PROVIDER])
            users.append(user_id)
    specs = _specs(users)
    await _insert_devices(database, specs)
    return users, specs


async def _insert_devices(database: Any, specs: Sequence[DeviceSpec]) -> None:
    """The rows registerPushDevice writes for new devices, inserted 1,000 at a time (through the
    repository, four statements per device, seeding took 6-9 s of the minute)."""
    from backend.core.clock import utcnow
    from backend.push.tables import PushDevice

    now = utcnow()
    async with database.unit_of_work():
        for first in range(0, len(specs), 1000):
            await PushDevice.insert(
                *(
                    PushDevice(
                        id=uuid.uuid4(),
                        user=spec.user_id,
                        device_id=spec.device_id,
                        platform=spec.platform,
                        token=spec.token,
                        app_version=APP_VERSION,
                        locale=spec.locale,
                        created_at=now,
                        updated_at=now,
                    )
                    for spec in specs[first : first + 1000]
                )
            )


async def _queue(database: Any, users: Sequence[uuid.UUID], *, commit: bool) -> list[Queued]:
    """One NEW_MESSAGE per group of RECIPIENTS users through notify(), each in its own unit of
    work (one cause, one transaction, as in production); the rows they wrote, due GRACE_MS
    later (the candidate then makes them due at t0).
    ``commit=False`` rolls every unit of work back: the rows exist for the baseline only."""
    from backend.messaging import records
    from backend.push import notify
    from backend.push.tables import PushOutbox

    notify.set_grace(timedelta(milliseconds=GRACE_MS))
    found: list[Queued] = []
    for first in range(0, len(users), RECIPIENTS):
        message = records.Message(
            id=uuid.uuid4(),
            conversation=uuid.uuid4(),
            sequence=1,
            sender=uuid.uuid4(),
            client_message_id="bench",
            body="",
            is_priority=False,
            reply_to=None,
            state="ACTIVE",
            sent_at=datetime.now(UTC),
            expires_at=None,
            recalled_at=None,
            promoted_document=None,
        )
        event_id = uuid.uuid4()
        async with database.unit_of_work() as uow:
            await notify.notify(
                list(users[first : first + RECIPIENTS]),
                notify.message_notification(message),
                event_id=event_id,
                breaks_quiet_hours=False,
            )
            rows = await PushOutbox.raw(
                "SELECT o.id, o.device, o.message, d.token, d.locale "
                "FROM push_outbox o JOIN push_device d ON d.id = o.device WHERE o.event_id = {}",
                event_id,
            )
            if not commit:
                uow.set_rollback_only()
        found += [
            Queued(
                id=row["id"],
                device=row["device"],
                message=json.loads(row["message"]) if isinstance(row["message"], str) else row["message"],
                token=row["token"],
                locale=row["locale"],
            )
            for row in rows
        ]
    return found


async def _restore_devices(database: Any, specs: Sequence[DeviceSpec]) -> int:
    """Register again the devices an earlier round pruned (UNREGISTERED deletes them)."""
    from backend.push.tables import PushDevice

    present = {
        (row["user"], row["device_id"])
        for row in await PushDevice.select(PushDevice.user, PushDevice.device_id)
    }
    missing = [spec for spec in specs if (spec.user_id, spec.device_id) not in present]
    await _insert_devices(database, missing)
    return len(missing)


def _encode(row: Queued) -> bytes:
    """The exact body FcmSender has firebase-admin send for this row (httpx's JSON encoding)."""
    from firebase_admin.messaging import _MessagingService

    from backend.push.payloads import fcm_message
    from backend.push.sender import _firebase_message

    body = fcm_message(
        row.message, token=row.token, locale=row.locale, now_epoch=int(time.time()), push_id=str(row.id)
    )
    data = {"message": _MessagingService.encode_message(_firebase_message(body))}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


# --- checks ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    """What the fake saw for one round's pushes, checked push by push."""

    delivered: set[str] = field(default_factory=set)
    unregistered: set[str] = field(default_factory=set)
    sends: Counter[str] = field(default_factory=Counter)
    quota: int = 0  # 429 answers
    retried: int = 0  # pushes with at least one 429
    min_retry_gap: float | None = None  # shortest (retry arrival - 429 written - Retry-After), s
    first_answers: float = 0.0  # epoch of the last first answer
    first_arrival: float = 0.0  # epoch of the first send's arrival


def _check_records(label: str, records: list[dict[str, Any]], push_ids: set[str]) -> Check:
    by_push: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        message = (record.get("body") or {}).get("message") or {}
        push_id = (message.get("data") or {}).get("pushId")
        if push_id not in push_ids:
            raise BenchError(f"{label}: the fake got a send for an unknown push ({push_id!r})")
        by_push[push_id].append(record)
    if missing := push_ids - by_push.keys():
        raise BenchError(f"{label}: {len(missing)} of {len(push_ids)} pushes never reached the fake")
    check = Check(first_arrival=min(r["received_at"] for r in records))
    for push_id, sends in by_push.items():
        sends.sort(key=lambda r: r["seq"])
        check.sends[push_id] = len(sends)
        check.first_answers = max(check.first_answers, sends[0]["finished_at"] or 0.0)
        for earlier, later in itertools.pairwise(sends):
            if earlier["response"] != "QUOTA_EXCEEDED":
                raise BenchError(f"{label}: push {push_id} sent again after {earlier['response']}")
            gap = later["received_at"] - earlier["finished_at"] - (earlier["retry_after"] or 0)
            if gap < -RETRY_ALLOWANCE_SECONDS:
                raise BenchError(
                    f"{label}: push {push_id} retried {-gap * 1000:.1f} ms before its Retry-After"
                )
            check.min_retry_gap = gap if check.min_retry_gap is None else min(check.min_retry_gap, gap)
        if any(r["outcome"] == "aborted" for r in sends):
            raise BenchError(f"{label}: push {push_id}: a send was aborted (the client gave up)")
        check.quota += sum(r["response"] == "QUOTA_EXCEEDED" for r in sends)
        check.retried += len(sends) > 1
        last = sends[-1]
        if last["response"] == "ok" and last["outcome"] == "delivered":
            check.delivered.add(push_id)
        elif last["response"] == "UNREGISTERED":
            check.unregistered.add(push_id)
        else:
            raise BenchError(f"{label}: push {push_id} ended with {last['response']} ({last['outcome']})")
    return check


async def _check_rows(label: str, connection: Any, rows: list[Queued], check: Check) -> None:
    """The candidate's rows against what the fake saw."""
    found = {
        str(r["id"]): r
        for r in await connection.fetch(
            "SELECT id, status, reason, attempts FROM push_outbox WHERE id = ANY($1::uuid[])",
            [q.id for q in rows],
        )
    }
    if len(found) != len(rows):
        raise BenchError(f"{label}: {len(rows) - len(found)} outbox rows vanished")
    statuses = Counter(r["status"] for r in found.values())
    sent = {i for i, r in found.items() if r["status"] == "SENT"}
    failed = {i for i, r in found.items() if r["status"] == "FAILED"}
    if statuses.keys() - {"SENT", "FAILED"}:
        raise BenchError(f"{label}: rows not SENT or FAILED: {dict(statuses)}")
    if sent != check.delivered:
        raise BenchError(
            f"{label}: SENT rows and delivered pushes differ ({len(sent - check.delivered)} SENT never "
            f"delivered, {len(check.delivered - sent)} delivered not SENT)"
        )
    if failed != check.unregistered or any(found[i]["reason"] != "UNREGISTERED" for i in failed):
        raise BenchError(f"{label}: FAILED rows are not exactly the UNREGISTERED pushes")
    if wrong := [i for i, r in found.items() if r["attempts"] != check.sends[i]]:
        raise BenchError(f"{label}: {len(wrong)} rows count other attempts than the fake's sends")
    device_of = {str(q.id): q.device for q in rows}
    gone = {device_of[i] for i in failed}
    present = {
        r["id"]
        for r in await connection.fetch(
            "SELECT id FROM push_device WHERE id = ANY($1::uuid[])", list(device_of.values())
        )
    }
    if present & gone:
        raise BenchError(f"{label}: {len(present & gone)} UNREGISTERED devices were not deleted")
    if len(present) != len(set(device_of.values()) - gone):
        raise BenchError(f"{label}: devices were deleted that FCM never called unregistered")


# --- the two sides ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundResult:
    side: str
    pushes: int
    seconds: float
    first_pass_seconds: float
    start_lag: float  # first send's arrival at the fake - t0, s
    time_wait: int  # TCP sockets in TIME_WAIT on the machine at t0
    sender_cpu: float  # the sending process's CPU, s
    fake_cpu: float
    machine_cpu: float  # all cores, s
    check: Check

    @property
    def throughput(self) -> float:
        return self.pushes / self.seconds

    @property
    def first_pass_throughput(self) -> float:
        return self.pushes / self.first_pass_seconds


@dataclass(slots=True)
class Context:
    database: Any
    connection: Any  # asyncpg, for polling and checks
    fake: Fake
    worker: Child
    users: list[uuid.UUID]
    specs: list[DeviceSpec]
    bearer: str
    send_url: str
    restored: int = 0
    plain_rows: dict[tuple[uuid.UUID, ...], tuple[list[Queued], list[bytes]]] = field(default_factory=dict)


async def _candidate(ctx: Context, label: str, users: Sequence[uuid.UUID], *, failures: bool) -> RoundResult:
    """Queue the round's rows for the running worker; time from their due time to none PENDING."""
    await ctx.fake.prepare(failures=failures)
    ctx.restored += await _restore_devices(ctx.database, ctx.specs)
    await ctx.connection.execute("DELETE FROM push_outbox")
    await ctx.connection.execute("VACUUM push_outbox")
    rows = await _queue(ctx.database, users, commit=True)
    due = time.time() + START_MARGIN_SECONDS  # t0
    moved = await ctx.connection.execute(
        "UPDATE push_outbox SET next_attempt_at = $1 WHERE status = 'PENDING'",
        datetime.fromtimestamp(due, UTC),
    )
    if moved != f"UPDATE {len(rows)}":
        raise BenchError(f"{label}: {moved} instead of {len(rows)} rows made due")
    await asyncio.sleep(max(due - time.time() - 0.05, 0))
    cpu, fake_cpu, machine = ctx.worker.cpu_seconds(), ctx.fake.child.cpu_seconds(), _machine_busy_seconds()
    time_wait = _time_wait()
    await asyncio.sleep(max(due - time.time(), 0))
    while await ctx.connection.fetchval("SELECT EXISTS (SELECT 1 FROM push_outbox WHERE status = 'PENDING')"):
        if time.time() - due > ROUND_TIMEOUT_SECONDS:
            ctx.worker.alive()
            raise BenchError(f"{label}: rows still PENDING after {ROUND_TIMEOUT_SECONDS:g} s")
        await asyncio.sleep(POLL_SECONDS)
    ended = time.time()
    used = (
        ctx.worker.cpu_seconds() - cpu,
        ctx.fake.child.cpu_seconds() - fake_cpu,
        _machine_busy_seconds() - machine,
    )
    check = _check_records(label, await ctx.fake.received(), {str(row.id) for row in rows})
    await _check_rows(label, ctx.connection, rows, check)
    return RoundResult(
        CANDIDATE,
        len(rows),
        ended - due,
        check.first_answers - due,
        check.first_arrival - due,
        time_wait,
        *used,
        check,
    )


async def _plain_push(ctx: Context, client: httpx.AsyncClient, gate: asyncio.Semaphore, body: bytes) -> str:
    headers = {"authorization": f"Bearer {ctx.bearer}", "content-type": "application/json"}
    while True:
        async with gate:
            response = await client.post(ctx.send_url, content=body, headers=headers)
        if response.status_code == 200:
            return "SENT"
        if response.status_code == 429:
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            continue
        details = (response.json().get("error") or {}).get("details") or [{}]
        code = details[0].get("errorCode")
        if response.status_code == 404 and code == "UNREGISTERED":
            return "UNREGISTERED"
        return f"HTTP {response.status_code} {code}"


async def _baseline(ctx: Context, label: str, users: Sequence[uuid.UUID], *, failures: bool) -> RoundResult:
    """The same rows, never committed, sent by a plain client; timed from the first request."""
    await ctx.fake.prepare(failures=failures)
    key = tuple(users)
    if key not in ctx.plain_rows:  # queued and encoded once for every round (2-3 s each time)
        rows = await _queue(ctx.database, users, commit=False)
        ctx.plain_rows[key] = rows, [_encode(row) for row in rows]
    rows, bodies = ctx.plain_rows[key]
    gate = asyncio.Semaphore(CONCURRENCY)
    gc.collect()
    # A new client per round: one kept from an earlier round holds up to 20 idle keep-alive
    # connections (httpx's default) and httpcore's pool then piles the burst onto them
    # (~440 instead of ~860 pushes/s here); see bench/README.md.
    async with httpx.AsyncClient(http2=True, timeout=120) as client:
        cpu, fake_cpu, machine = time.process_time(), ctx.fake.child.cpu_seconds(), _machine_busy_seconds()
        time_wait = _time_wait()
        started = time.time()
        outcomes = await asyncio.gather(*(_plain_push(ctx, client, gate, body) for body in bodies))
        ended = time.time()
        used = (
            time.process_time() - cpu,
            ctx.fake.child.cpu_seconds() - fake_cpu,
            _machine_busy_seconds() - machine,
        )
    if errors := [o for o in outcomes if o not in {"SENT", "UNREGISTERED"}]:
        raise BenchError(f"{label}: {len(errors)} pushes failed; first: {errors[0]}")
    check = _check_records(label, await ctx.fake.received(), {str(row.id) for row in rows})
    mine = {str(row.id) for row, outcome in zip(rows, outcomes, strict=True) if outcome == "SENT"}
    if mine != check.delivered:
        raise BenchError(f"{label}: the client's SENT pushes differ from the fake's deliveries")
    return RoundResult(
        BASELINE,
        len(rows),
        ended - started,
        check.first_answers - started,
        check.first_arrival - started,
        time_wait,
        *used,
        check,
    )


# --- measuring -------------------------------------------------------------------------------


def _report_round(label: str, result: RoundResult) -> None:
    check = result.check
    gap = f"{check.min_retry_gap * 1000:+.1f} ms" if check.min_retry_gap is not None else "-"
    print(
        f"  {label:14s} {result.side:10s} {result.throughput:7.0f} pushes/s ({result.seconds:5.2f} s; "
        f"first answers in {result.first_pass_seconds:5.2f} s = {result.first_pass_throughput:5.0f}/s)  "
        f"sends {sum(check.sends.values())}: 429 x{check.quota} on {check.retried} pushes (shortest wait "
        f"past Retry-After {gap}), UNREGISTERED {len(check.unregistered)}, delivered {len(check.delivered)}"
    )
    print(
        f"  {'':14s} {'':10s} CPU per push: sender {1000 * result.sender_cpu / result.pushes:.2f} ms (busy "
        f"{result.sender_cpu / result.seconds:.0%} of a core), "
        f"fake {1000 * result.fake_cpu / result.pushes:.2f} ms (fake busy "
        f"{result.fake_cpu / result.seconds:.0%} of a core); machine "
        f"{result.machine_cpu / result.seconds:.2f} of 2 cores busy; first send "
        f"{1000 * result.start_lag:.0f} ms after t0; {result.time_wait} TIME_WAIT sockets at t0"
    )


async def _measure(ctx: Context) -> dict[str, list[RoundResult]]:
    sides = {CANDIDATE: _candidate, BASELINE: _baseline}
    warm_users = ctx.users[:WARMUP_USERS]
    started = time.perf_counter()
    for name, run in sides.items():
        await run(ctx, f"warm-up {name}", warm_users, failures=False)
    print(
        f"warm-up: {WARMUP_USERS * DEVICES_PER_USER} pushes per side without failures "
        f"({time.perf_counter() - started:.1f} s)"
    )
    results: dict[str, list[RoundResult]] = {name: [] for name in sides}
    for number in range(ROUNDS):
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for name in order:
            began = time.perf_counter()
            result = await sides[name](ctx, f"round {number + 1}", ctx.users, failures=True)
            _report_round(f"round {number + 1}", result)
            print(f"  {'':14s} {'':10s} round with queueing and checks: {time.perf_counter() - began:.1f} s")
            results[name].append(result)
    return results


async def _bearer(account: Path) -> str:
    """An access token from the fake's token endpoint, as google-auth gets one for firebase-admin."""
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(str(account), scopes=[FCM_SCOPE])
    await asyncio.to_thread(credentials.refresh, Request())
    token: str = credentials.token
    return token


async def _main(var_dir: Path, target: Target, fake: Fake) -> dict[str, list[RoundResult]]:
    import asyncpg

    from backend.container import build_container
    from backend.db import Database
    from backend.settings import get_settings

    started = time.perf_counter()
    settings = get_settings()
    container = build_container(settings)
    database = Database(container.database.engine, settings, container.database.subscribers)
    await fake.ready()
    users, specs = await _seed(database)
    print(
        f"seeded {len(users)} users with {len(specs)} devices (bulk insert) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    worker_env = {
        **os.environ,
        "FCM_SERVICE_ACCOUNT_FILE": str(fake.account),
        "FCM_SEND_URL": fake.send_url_template,
        "PUSH_DISPATCH_IN_PROCESS": "false",
        "PUSH_CONCURRENCY": str(CONCURRENCY),
        "PUSH_BACKOFF_MS": str(BACKOFF_MS),
        "PUSH_IDLE_POLL_MS": str(IDLE_POLL_MS),
    }
    worker = Child("worker", [sys.executable, "-m", "backend", "worker"], var_dir, env=worker_env)
    connection = await asyncpg.connect(target.database_url)
    try:
        ctx = Context(
            database=database,
            connection=connection,
            fake=fake,
            worker=worker,
            users=users,
            specs=specs,
            bearer=await _bearer(fake.account),
            send_url=fake.send_url_template.format(json.loads(fake.account.read_text())["project_id"]),
        )
        results = await _measure(ctx)
        worker.alive()
        if ctx.restored:
            print(f"between rounds: {ctx.restored} pruned devices registered again")
        return results
    finally:
        worker.stop()
        await connection.close()
        await database.stop()


def bench() -> int:
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # clean up (drop the database) on SIGTERM too
    var_dir = Path(tempfile.mkdtemp(prefix="careloop-bench-"))
    target = provision(var_dir)
    print(f"engine: {target.description}")
    fake: Fake | None = None
    try:
        if target.engine != "postgresql":
            raise BenchError(
                "the dispatcher's row claiming is measured on PostgreSQL (set BENCH_POSTGRES_URL)"
            )
        _configure_environment(var_dir, target.database_url)
        fake = Fake(var_dir)
        results = asyncio.run(_with_fake(var_dir, target, fake))
    except BenchError as error:
        print(f"bench-push failed: {error}", file=sys.stderr)
        return 1
    finally:
        if fake is not None:
            fake.child.stop()
        drop(target)
        shutil.rmtree(var_dir, ignore_errors=True)

    candidate = statistics.median(r.throughput for r in results[CANDIDATE])
    baseline = statistics.median(r.throughput for r in results[BASELINE])
    first_candidate = statistics.median(r.first_pass_throughput for r in results[CANDIDATE])
    first_baseline = statistics.median(r.first_pass_throughput for r in results[BASELINE])
    print(f"engine: postgresql; wall time {time.perf_counter() - started:.1f} s")
    print(
        f"{PUSHES} pushes per round, {CONCURRENCY} in flight, FCM answering after {FCM_DELAY_MS} ms with "
        f"{RATES['QUOTA_EXCEEDED']:.1%} 429 (Retry-After {RETRY_AFTER_SECONDS} s) and "
        f"{RATES['UNREGISTERED']:.1%} UNREGISTERED; median of {ROUNDS} rounds:"
    )
    print(
        f"  dispatcher {candidate:6.0f} pushes/s (first answers {first_candidate:5.0f}/s), plain httpx "
        f"{baseline:6.0f} pushes/s (first answers {first_baseline:5.0f}/s): ratio {candidate / baseline:.2f}"
    )
    verdict = "met" if candidate / baseline >= TARGET_RATIO else "missed"
    print(f"target: dispatcher throughput at least {TARGET_RATIO:g}x plain: {verdict}")
    print(_figure("push_first_pass_ratio", first_candidate, first_baseline, "pushes/s", 1))
    print(_figure("push_throughput_ratio", candidate, baseline, "pushes/s", 1), flush=True)
    return 0


async def _with_fake(var_dir: Path, target: Target, fake: Fake) -> dict[str, list[RoundResult]]:
    try:
        return await _main(var_dir, target, fake)
    finally:
        await fake.close()


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    return bench()


if __name__ == "__main__":
    sys.exit(main())
