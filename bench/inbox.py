"""Inbox throughput: the GraphQL inbox against a plain JSON endpoint doing the same domain work.

Run with ``make bench-inbox`` (or ``python -m bench.inbox``)::

    fresh database: PostgreSQL ``careloop_bench_<pid>`` (a temp SQLite file if unreachable)
      ─► migrate ─► seed: a receiving and a referring organization, a specialist, 200 patients,
         2,000 referrals sent to the specialist in mixed statuses and priorities
      ─► the real app (create_app) plus GET /bench/inbox, served by uvicorn on a loopback port
         in a background thread with its own event loop
      ─► log the specialist in over GraphQL
      ─► check both endpoints answer the same page with the same number of SQL statements
      ─► warm up ─► rounds alternating GraphQL / plain, CONCURRENCY requests in flight
      ─► median req/s per side ─► drop the database ─► the JSON figure line, last

The candidate is ``POST /graphql`` with ``referrals(view: INCOMING, first: $first)``, first = 50
(sent as a variable, as the apps do), selecting 20 fields per row, nested objects included. The
baseline ("plain") is a Litestar route mounted on the same app object for this run only (the
product has no such endpoint): it authenticates the bearer token with backend/graphql/http.py's
own helpers, opens a unit of work, calls ``service.inbox`` with
the same limit, loads patients, providers, organizations and specialties in one batched query
each (the repository functions the DataLoaders use), audits the same reads, and encodes the same
JSON with msgspec. Same SQL, same audit writes: the ratio isolates what GraphQL itself costs.

Settings are read from the environment once, so every variable is set before any backend module
is imported; backend imports therefore live inside functions.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import os
import random
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import msgspec
from litestar import Request, Response, get

from bench.database import BenchError, Target, drop, provision

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.handlers import HTTPRouteHandler

    from backend.container import Container
    from backend.patients.records import Patient
    from backend.referrals.records import Referral
    from backend.referrals.service import Outcome

PATIENTS = 200
REFERRALS = 2_000
PAGE_SIZE = 50
CONCURRENCY = 8
WARMUP_SECONDS = 1.0
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "4"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "3"))
PASSWORD = "bench horse battery staple"
SPECIALTY_CODE = "cardiology"
PLAIN_PATH = "/bench/inbox"
SEED = 20_240_601
Row = dict[str, Any]

INBOX_QUERY = """
query Inbox($first: Int!) {
  referrals(view: INCOMING, first: $first) {
    edges {
      cursor
      node {
        id version status priority dueAt isOverdue reason clinicalQuestion diagnoses networkStatus
        allowedActions createdAt
        insurance { status }
        patient { id mrn givenName familyName birthDate }
        specialty { code name }
        referringProvider { id displayName npi }
        receivingProvider { id displayName }
        referringOrganization { id name }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { __typename ... on AuthPayload { accessToken } ... on AuthError { code message } }
}
"""

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
            "POSTGRES_POOL_MAX": str(CONCURRENCY * 2),
        }
    )
    os.environ.pop("REDIS_URL", None)


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seeded:
    specialist_email: str
    referrals: int
    patients: int
    seconds: float


def _away_from(moment: datetime, now: datetime) -> datetime:
    """Whole seconds, and never within ten minutes of now: ``isOverdue`` must not flip mid-run."""
    moment = moment.replace(microsecond=0)
    if abs(moment - now) < timedelta(minutes=10):
        moment += timedelta(hours=1)
    return moment


async def _seed(container: Container) -> Seeded:
    from backend.accounts import repository as accounts
    from backend.accounts.codes import OrganizationKind, Role
    from backend.accounts.tables import Organization
    from backend.core.clock import utcnow
    from backend.core.validation import npi_with_check_digit
    from backend.db import Database
    from backend.directory import repository as directory
    from backend.directory.codes import NetworkStatus
    from backend.patients import repository as patients
    from backend.protocols.policy import Policy
    from backend.referrals import lifecycle
    from backend.referrals import repository as referrals
    from backend.referrals.codes import InsuranceStatus
    from backend.referrals.lifecycle import Priority, Status
    from backend.referrals.service import NO_DEADLINE

    started = time.perf_counter()
    rng = random.Random(SEED)
    policy = Policy()
    database = Database(
        container.database.engine, container.settings, container.database.subscribers
    )  # this loop's own pool
    await database.start()
    try:
        password_hash = await container.auth.passwords.hash(PASSWORD)

        async def organization(name: str) -> UUID:
            row = Organization(name=name, kind=OrganizationKind.CLINIC.value)
            await row.save()
            return UUID(str(row.id))

        async def clinician(
            org: UUID, role: Role, email: str, name: str, specialty: UUID
        ) -> tuple[UUID, UUID]:
            user_id = await accounts.insert_user(
                email=email, display_name=name, home_organization_id=org, password_hash=password_hash
            )
            await accounts.replace_roles(user_id, org, (role,))
            provider_id = await accounts.insert_provider(
                organization_id=org,
                npi=npi_with_check_digit(f"{rng.randrange(100_000_000, 999_999_999)}"),
                display_name=name,
                user_id=user_id,
                specialty_ids=[specialty],
            )
            return user_id, provider_id

        async with database.unit_of_work():
            if not await accounts.specialties_by_codes([SPECIALTY_CODE]):
                await accounts.insert_specialties([(SPECIALTY_CODE, "Cardiology")])
            specialty_id = (await accounts.specialties_by_codes([SPECIALTY_CODE]))[0].id
            receiving_org = await organization("Bench Heart Center")
            referring_org = await organization("Bench Family Practice")
            specialist_email = "specialist@bench.example"
            _, specialist = await clinician(
                receiving_org, Role.SPECIALIST, specialist_email, "Dr. Bench Specialist", specialty_id
            )
            referrer_user, referrer = await clinician(
                referring_org,
                Role.REFERRING_PROVIDER,
                "referrer@bench.example",
                "Dr. Bench Referrer",
                specialty_id,
            )
            await directory.link_network(referring_org, [specialist])
            patient_ids = [
                await patients.insert_patient(
                    organization_id=referring_org,
                    mrn=f"MRN{n:06d}",
                    given_name=rng.choice(("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Frances")),
                    family_name=f"Benchpatient{n:03d}",
                    birth_date=date(1930 + rng.randrange(80), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                    sex=rng.choice(("FEMALE", "MALE")),
                    phone=None,
                    insurance_plan_id=None,
                    insurance_member_id=None,
                )
                for n in range(PATIENTS)
            ]

        statuses = [
            (Status.SENT, 30),
            (Status.IN_REVIEW, 20),
            (Status.NEEDS_INFO, 8),
            (Status.ACCEPTED, 12),
            (Status.SCHEDULED, 12),
            (Status.NO_SHOW, 3),
            (Status.VISIT_COMPLETED, 5),
            (Status.CLOSED, 4),
            (Status.DECLINED, 3),
            (Status.CANCELLED, 2),
            (Status.EXPIRED, 1),
        ]
        priorities = [(Priority.STAT, 1), (Priority.URGENT, 3), (Priority.ROUTINE, 6)]
        reasons = ("Palpitations and irregular pulse", "Exertional chest pain", "Syncope", "New murmur")
        questions = ("Atrial fibrillation? Anticoagulation?", "Ischaemia work-up?", "Echo and advice?")
        diagnoses: tuple[list[str], ...] = (["I48.91"], ["R07.9", "I10"], ["R55"], ["R01.1", "E11.9"], [])
        now = utcnow()
        async with database.unit_of_work():
            for _ in range(REFERRALS):
                status = rng.choices([s for s, _ in statuses], [w for _, w in statuses])[0]
                priority = rng.choices([p for p, _ in priorities], [w for _, w in priorities])[0]
                created_at = (now - timedelta(minutes=rng.randrange(60, 60 * 24 * 60))).replace(microsecond=0)
                sent_at = created_at + timedelta(minutes=5)
                respond_by = policy.respond_by(priority, sent_at)
                schedule_by = policy.schedule_by(priority, sent_at + timedelta(hours=6))
                due_at = {
                    Status.SENT: respond_by,
                    Status.IN_REVIEW: respond_by,
                    Status.ACCEPTED: schedule_by,
                    Status.NO_SHOW: schedule_by,
                    Status.SCHEDULED: now + timedelta(minutes=rng.randrange(60, 60 * 24 * 30)),
                    Status.VISIT_COMPLETED: now + timedelta(days=rng.randrange(1, 14)),
                }.get(status, NO_DEADLINE)
                await referrals.insert_referral(
                    {
                        "status": status.value,
                        "priority": priority.value,
                        "priority_rank": lifecycle.PRIORITY_RANK[priority],
                        "due_at": due_at if due_at == NO_DEADLINE else _away_from(due_at, now),
                        "patient": rng.choice(patient_ids),
                        "referring_provider": referrer,
                        "referring_organization": referring_org,
                        "receiving_provider": specialist,
                        "receiving_organization": receiving_org,
                        "specialty": specialty_id,
                        "reason": rng.choice(reasons),
                        "clinical_question": rng.choice(questions),
                        "relevant_history": "Hypertension, type 2 diabetes",
                        "diagnoses": list(rng.choice(diagnoses)),
                        "out_of_network_reason": "",
                        "network_status": NetworkStatus.IN_NETWORK.value,
                        "insurance_status": rng.choice(list(InsuranceStatus)).value,
                        "sent_at": sent_at,
                        "respond_by": respond_by,
                        "schedule_by": schedule_by if status is not Status.SENT else None,
                        "expires_at": policy.expires_at(sent_at),
                        "closed_at": now - timedelta(days=1) if status is Status.CLOSED else None,
                        "created_by": referrer_user,
                        "created_at": created_at,
                        "updated_at": sent_at,
                        "status_changed_at": sent_at,
                    }
                )
    finally:
        await database.stop()
    return Seeded(specialist_email, REFERRALS, PATIENTS, time.perf_counter() - started)


# --- the plain endpoint ----------------------------------------------------------------------


def _unique(values: Iterable[Hashable | None]) -> list[Any]:
    return [value for value in dict.fromkeys(values) if value is not None]


def _by_id(rows: list[Row]) -> dict[UUID, Row]:
    return {row["id"]: row for row in rows}


def _iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def build_plain_inbox() -> HTTPRouteHandler:
    """GET /bench/inbox: the GraphQL inbox's domain work and fields, without GraphQL."""
    from backend.accounts import records as accounts_records
    from backend.accounts import repository as accounts
    from backend.audit.service import AuditTrail
    from backend.core.clock import utcnow
    from backend.core.request import RequestMeta
    from backend.graphql.common import to_global_id
    from backend.graphql.http import _authenticate, _bearer, _request_id
    from backend.graphql.network import client_address
    from backend.patients import repository as patients
    from backend.patients import service as patient_service
    from backend.referrals import service
    from backend.referrals.codes import InboxView
    from backend.referrals.repository import InboxFilters

    encoder = msgspec.json.Encoder()

    def cursor(row: Referral) -> str:
        key = service.inbox_key(row)
        raw = f"{key.priority_rank}|{key.due_at.isoformat()}|{key.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def provider(record: accounts_records.Provider | None, *, with_npi: bool) -> Row | None:
        if record is None:
            return None
        encoded: Row = {"id": to_global_id("Provider", record.id), "displayName": record.display_name}
        if with_npi:
            encoded["npi"] = record.npi
        return encoded

    def node(
        outcome: Outcome,
        patients_by_id: dict[UUID, Patient],
        related: dict[str, dict[UUID, Row]],
        now: datetime,
    ) -> Row:
        row = outcome.referral
        due_at = None if row.due_at >= service.NO_DEADLINE else row.due_at
        patient = patients_by_id[row.patient]
        specialty = related["specialties"][row.specialty]
        organization = related["organizations"][row.referring_organization]
        receiving = row.receiving_provider
        return {
            "id": to_global_id("Referral", row.id),
            "version": row.version,
            "status": row.status,
            "priority": row.priority,
            "dueAt": _iso(due_at),
            "isOverdue": due_at is not None and due_at < now,
            "reason": row.reason,
            "clinicalQuestion": row.clinical_question,
            "diagnoses": service.diagnoses_of(row),
            "networkStatus": row.network_status,
            "allowedActions": [action.value for action in outcome.allowed_actions],
            "createdAt": _iso(row.created_at),
            "insurance": {"status": row.insurance_status},
            "patient": {
                "id": to_global_id("Patient", patient.id),
                "mrn": patient.mrn,
                "givenName": patient.given_name,
                "familyName": patient.family_name,
                "birthDate": _iso(patient.birth_date),
            },
            "specialty": {"code": specialty.code, "name": specialty.name},
            "referringProvider": provider(related["providers"][row.referring_provider], with_npi=True),
            "receivingProvider": provider(
                related["providers"].get(receiving) if receiving else None, with_npi=False
            ),
            "referringOrganization": {
                "id": to_global_id("Organization", organization.id),
                "name": organization.name,
            },
        }

    @get(PLAIN_PATH, include_in_schema=False, cache=False)
    async def plain_inbox(request: Request[Any, Any, Any]) -> Response[bytes]:
        container: Container = request.app.state.container
        request_id = _request_id(request)
        meta = RequestMeta(
            client_address=client_address(request, container.settings.trusted_proxies), request_id=request_id
        )
        async with container.database.unit_of_work() as uow:
            audit = AuditTrail(uow, meta)
            actor = await _authenticate(container, _bearer(request))
            if actor is None:
                return Response(encoder.encode({"error": "UNAUTHENTICATED"}), status_code=401)
            outcomes = await service.inbox(
                actor,
                audit,
                view=InboxView.INCOMING,
                organization_id=None,
                filters=InboxFilters(),
                after=None,
                limit=PAGE_SIZE + 1,
            )
            page = outcomes[:PAGE_SIZE]
            rows = [outcome.referral for outcome in page]
            patients_by_id = {
                p.id: p for p in await patients.patients_by_ids(_unique(r.patient for r in rows))
            }
            related = {
                "providers": {
                    p.id: p
                    for p in await accounts.providers_by_ids(
                        _unique([r.referring_provider for r in rows] + [r.receiving_provider for r in rows])
                    )
                },
                "organizations": {
                    o.id: o
                    for o in await accounts.organizations_by_ids(
                        _unique(r.referring_organization for r in rows)
                    )
                },
                "specialties": {
                    s.id: s for s in await accounts.specialties_by_ids(_unique(r.specialty for r in rows))
                },
            }
            # The GraphQL `patient` field audits one read per referral row; so does this.
            patient_service.audit_reads(actor, audit, [patients_by_id[r.patient] for r in rows])
            now = utcnow()
            edges = [
                {"cursor": cursor(o.referral), "node": node(o, patients_by_id, related, now)} for o in page
            ]
        body = {
            "edges": edges,
            "pageInfo": {
                "hasNextPage": len(outcomes) > PAGE_SIZE,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }
        return Response(
            encoder.encode(body),
            media_type="application/json",
            headers={"x-request-id": request_id, "cache-control": "no-store"},
        )

    return plain_inbox


# --- server ----------------------------------------------------------------------------------


class ServerThread:
    """uvicorn serving the app on a free loopback port, in a thread with its own event loop."""

    def __init__(self, app: Litestar) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
            ws_per_message_deflate=False,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._serve, name="bench-uvicorn", daemon=True)

    def _serve(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as error:
            self.error = error

    def start(self, timeout: float = 20.0) -> str:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise BenchError(f"the server did not start: {self.error!r}")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


# --- client ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Sample:
    requests: int
    seconds: float
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True, slots=True)
class Side:
    name: str
    call: Callable[[], Awaitable[Row]]


def _graphql_side(client: httpx.AsyncClient, token: str) -> Side:
    body = msgspec.json.encode({"query": INBOX_QUERY, "variables": {"first": PAGE_SIZE}})
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    async def call() -> Row:
        response = await client.post("/graphql", content=body, headers=headers)
        if response.status_code != 200:
            raise BenchError(f"POST /graphql answered {response.status_code}: {response.text[:500]}")
        answer: Row = _decoder.decode(response.content)
        if answer.get("errors") or not answer.get("data"):
            raise BenchError(f"POST /graphql answered errors: {str(answer)[:500]}")
        connection: Row = answer["data"]["referrals"]
        if len(connection["edges"]) != PAGE_SIZE:
            raise BenchError(f"POST /graphql returned {len(connection['edges'])} rows, not {PAGE_SIZE}")
        return connection

    return Side("graphql", call)


def _plain_side(client: httpx.AsyncClient, token: str) -> Side:
    headers = {"authorization": f"Bearer {token}"}

    async def call() -> Row:
        response = await client.get(PLAIN_PATH, headers=headers)
        if response.status_code != 200:
            raise BenchError(f"GET {PLAIN_PATH} answered {response.status_code}: {response.text[:500]}")
        connection: Row = _decoder.decode(response.content)
        if len(connection["edges"]) != PAGE_SIZE:
            raise BenchError(f"GET {PLAIN_PATH} returned {len(connection['edges'])} rows, not {PAGE_SIZE}")
        return connection

    return Side("plain", call)


async def _login(client: httpx.AsyncClient, email: str) -> str:
    variables = {"input": {"email": email, "password": PASSWORD, "deviceId": "bench-device"}}
    response = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
    answer = response.json()
    result = (answer.get("data") or {}).get("login") or {}
    if response.status_code != 200 or result.get("__typename") != "AuthPayload":
        raise BenchError(f"login failed: {response.status_code} {answer}")
    token: str = result["accessToken"]
    return token


def _first_difference(left: Any, right: Any, path: str = "") -> str | None:
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            found = _first_difference(left.get(key), right.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (a, b) in enumerate(zip(left, right, strict=True)):
            found = _first_difference(a, b, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if left == right else f"{path or '.'}: graphql={left!r} plain={right!r}"


async def _statements_and_answer(side: Side) -> tuple[int, Row]:
    """One request alone, with the SQL statements it ran (the server runs in this process)."""
    from backend.db import STATEMENTS

    before = STATEMENTS.count
    answer = await side.call()
    return STATEMENTS.count - before, answer


async def _drive(side: Side, seconds: float) -> Sample:
    """CONCURRENCY workers calling ``side`` back to back until ``seconds`` have passed."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await side.call()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return Sample(len(latencies), time.perf_counter() - started, latencies)


@dataclass(frozen=True, slots=True)
class Measured:
    statements: dict[str, int]
    samples: dict[str, list[Sample]]
    seconds: float

    def median_rps(self, side: str) -> float:
        return statistics.median(sample.rps for sample in self.samples[side])

    def p50_ms(self, side: str) -> float:
        return 1000 * statistics.median(t for sample in self.samples[side] for t in sample.latencies)


async def _measure(base_url: str, email: str) -> Measured:
    started = time.perf_counter()
    # Litestar's default logging config puts the root logger at INFO when the app starts; keep
    # the client from logging (and paying for) a line per request.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        token = await _login(client, email)
        sides = (_graphql_side(client, token), _plain_side(client, token))
        checked = [await _statements_and_answer(side) for side in sides]
        difference = _first_difference(checked[0][1], checked[1][1])
        if difference:
            raise BenchError(f"the plain endpoint does not answer what GraphQL answers: {difference}")
        statements = {side.name: count for side, (count, _) in zip(sides, checked, strict=True)}
        if statements["graphql"] != statements["plain"]:
            raise BenchError(f"the two sides run different numbers of SQL statements: {statements}")
        print(f"same page from both sides; {statements['graphql']} SQL statements per request each")

        for side in sides:
            await _drive(side, WARMUP_SECONDS)
        samples: dict[str, list[Sample]] = {side.name: [] for side in sides}
        for round_number in range(ROUNDS):
            order = sides if round_number % 2 == 0 else tuple(reversed(sides))
            for side in order:
                samples[side.name].append(await _drive(side, ROUND_SECONDS))
            print(
                f"round {round_number + 1}/{ROUNDS}: "
                + ", ".join(f"{name} {runs[-1].rps:7.1f} req/s" for name, runs in samples.items())
            )
    return Measured(statements, samples, time.perf_counter() - started)


# --- main ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    target: Target
    seeded: Seeded
    measured: Measured
    setup_seconds: float


def _run(target: Target) -> Report:
    from backend.app import create_app
    from backend.migrations_tools import migrate
    from backend.settings import get_settings

    started = time.perf_counter()
    app = create_app(get_settings())
    app.register(build_plain_inbox())

    async def prepare() -> Seeded:
        with contextlib.redirect_stdout(io.StringIO()):  # Piccolo narrates every migration
            await migrate()
        return await _seed(app.state.container)

    seeded = asyncio.run(prepare())
    print(f"seeded {seeded.referrals} referrals and {seeded.patients} patients in {seeded.seconds:.1f} s")
    server = ServerThread(app)
    base_url = server.start()
    setup_seconds = time.perf_counter() - started
    try:
        measured = asyncio.run(_measure(base_url, seeded.specialist_email))
    finally:
        server.stop()
    return Report(target, seeded, measured, setup_seconds)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _terminate)  # clean up (drop the database) on SIGTERM too
    var_dir = Path(tempfile.mkdtemp(prefix="careloop-bench-"))
    target = provision(var_dir)
    print(f"engine: {target.description}")
    try:
        _configure_environment(var_dir, target.database_url)
        report = _run(target)
    except BenchError as error:
        print(f"bench-inbox failed: {error}", file=sys.stderr)
        return 1
    finally:
        drop(target)
        shutil.rmtree(var_dir, ignore_errors=True)

    measured = report.measured
    graphql, plain = measured.median_rps("graphql"), measured.median_rps("plain")
    ratio = graphql / plain
    per_round = {name: ", ".join(f"{s.rps:.1f}" for s in runs) for name, runs in measured.samples.items()}
    print(
        f"inbox page: {PAGE_SIZE} of {report.seeded.referrals} referrals, 20 fields per row with 6 nested "
        f"objects; {CONCURRENCY} requests in flight, {ROUNDS} alternating rounds of {ROUND_SECONDS:g} s"
    )
    print(f"engine: {report.target.engine} ({report.target.description})")
    print(
        f"graphql (POST /graphql):     {graphql:8.1f} req/s  p50 {measured.p50_ms('graphql'):6.1f} ms"
        f"  rounds: {per_round['graphql']}"
    )
    print(
        f"plain   (GET {PLAIN_PATH}): {plain:8.1f} req/s  p50 {measured.p50_ms('plain'):6.1f} ms"
        f"  rounds: {per_round['plain']}"
    )
    print(f"ratio graphql / plain: {ratio:.3f}")
    print(
        f"wall time: {time.perf_counter() - started:.1f} s "
        f"(setup {report.setup_seconds:.1f} s, measurement {measured.seconds:.1f} s)"
    )
    figure = {
        "figure": "inbox_throughput_ratio",
        "value": round(ratio, 3),
        "candidate": round(graphql, 1),
        "baseline": round(plain, 1),
        "unit": "req/s",
    }
    print(json.dumps(figure), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
