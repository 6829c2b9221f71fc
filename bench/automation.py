"""Automation: what a runner tick costs as open referrals grow, and how fast steps fire.

Run with ``make bench-automation`` (or ``python -m bench.automation``), PostgreSQL only::

    SMALL: a fresh database, migrated; organizations, people (a coordinator's phone) and one
      sent referral made with the app's own repositories; grown to 10,000 open referrals by
      INSERT … SELECT over generate_series, three pending steps each, 1,000 of them due; ANALYZE
    LARGE: a copy of the seeded SMALL (CREATE DATABASE … TEMPLATE), grown to 100,000 the same way
    tick scaling: claiming every due step with the runner's own claim statement
      (backend/core/leases.py; batches of 200, lease taken), SMALL then LARGE, alternating,
      ROUNDS times; claims released between rounds (not timed) ─► median LARGE ÷ median SMALL
    fire rate, in SMALL: FIRE due escalations fired by the real Runner (each: FIRED mark,
      timeline entry (note sealed), audit entry on the chain, a stream event for each of the
      four users who may see the referral, a push outbox row for the told coordinator's phone)
      against a plain asyncpg loop writing the same rows, one transaction per step, alternating
      ─► steps/s candidate ÷ baseline

Prints automation_tick_scaling (target ≤ 1.3) and automation_fire_ratio (target ≥ 0.5) as the
last two lines, with CPU per step of this process (the runner runs in it) beside the rates.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.database import ADMIN_URL, BenchError, admin

SMALL, LARGE = 10_000, 100_000
DUE = 1_000
BATCH = 200
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
FIRE = int(os.environ.get("BENCH_FIRE", "300"))
FIRE_ROUNDS = int(os.environ.get("BENCH_FIRE_ROUNDS", "2"))
SEALED_TEXT = ("reason", "clinical_question", "relevant_history", "outcome_report", "wrapped_key")


def _url(name: str) -> str:
    return f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def _configure_environment(var_dir: Path, database_url: str) -> None:
    os.environ.update(
        {
            "CARELOOP_ENV": "test",
            "CARELOOP_VAR_DIR": str(var_dir),
            "DATABASE_URL": database_url,
            "PASSWORD_HASH_TIME_COST": "1",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            "PASSWORD_HASH_PARALLELISM": "1",
            "LOG_LEVEL": "WARNING",
            "AUTOMATION_IN_PROCESS": "false",
        }
    )
    os.environ.pop("REDIS_URL", None)


async def _seed_people(container: Any) -> dict[str, Any]:
    """With the app's repositories (DATABASE_URL is SMALL): who is who, and one sent referral."""
    from backend.accounts import repository as accounts
    from backend.accounts.codes import OrganizationKind, Role
    from backend.accounts.tables import Organization
    from backend.directory.codes import NetworkStatus
    from backend.patients import repository as patients
    from backend.push import repository as push
    from backend.referrals import lifecycle
    from backend.referrals import repository as referrals
    from backend.referrals.lifecycle import Priority, Status

    database = container.database
    await database.start()
    try:
        async with database.unit_of_work():
            await accounts.insert_specialties([("cardiology", "Cardiology")])
            specialty = (await accounts.specialties_by_codes(["cardiology"]))[0].id
            orgs = {}
            for side in ("referring", "receiving"):
                row = Organization(name=f"Bench {side}", kind=OrganizationKind.CLINIC.value)
                await row.save()
                orgs[side] = uuid.UUID(str(row.id))
            users, providers = {}, {}
            for name, side, role in (
                ("referrer", "referring", Role.REFERRING_PROVIDER),
                ("specialist", "receiving", Role.SPECIALIST),
                ("referring_coordinator", "referring", Role.COORDINATOR),
                ("receiving_coordinator", "receiving", Role.COORDINATOR),
            ):
                users[name] = await accounts.insert_user(
                    email=f"{name}@bench.example",
                    display_name=name,
                    home_organization_id=orgs[side],
                    password_hash="",
                )
                await accounts.replace_roles(users[name], orgs[side], (role,))
                if name in ("referrer", "specialist"):
                    providers[name] = await accounts.insert_provider(
                        organization_id=orgs[side],
                        npi=f"{1_000_000_000 + secrets.randbelow(10**8):010d}"[:9] + "3",
                        display_name=name,
                        user_id=users[name],
                        specialty_ids=[specialty],
                    )
            await push.upsert_device(
                user_id=users["receiving_coordinator"],
                device_id="bench-phone",
                platform="IOS",
                token="bench-token",  # noqa: S106 - a push token, not a secret
                app_version="1.0",
                locale="en",
                now=datetime.now(UTC),
            )
            patient = await patients.insert_patient(
                organization_id=orgs["referring"],
                mrn="MRN000001",
                given_name="Bench",
                family_name="Patient",
                birth_date=date(1970, 1, 1),
                sex="FEMALE",
                phone=None,
                insurance_plan_id=None,
                insurance_member_id=None,
            )
            now = datetime.now(UTC).replace(microsecond=0)
            template = await referrals.insert_referral(
                {
                    "status": Status.SENT.value,
                    "priority": Priority.ROUTINE.value,
                    "priority_rank": lifecycle.PRIORITY_RANK[Priority.ROUTINE],
                    "due_at": now + timedelta(days=3),
                    "patient": patient,
                    "referring_provider": providers["referrer"],
                    "referring_organization": orgs["referring"],
                    "receiving_provider": providers["specialist"],
                    "receiving_organization": orgs["receiving"],
                    "specialty": specialty,
                    "reason": "",
                    "clinical_question": "",
                    "relevant_history": "",
                    "diagnoses": [],
                    "out_of_network_reason": "",
                    "network_status": NetworkStatus.IN_NETWORK.value,
                    "sent_at": now - timedelta(hours=1),
                    "respond_by": now + timedelta(days=3),
                    "expires_at": now + timedelta(days=90),
                    "created_by": users["referrer"],
                    "created_at": now,
                    "updated_at": now,
                    "status_changed_at": now - timedelta(hours=1),
                }
            )
    finally:
        await database.stop()
    return {"template": template.id, "users": users}


async def _grow(url: str, template: uuid.UUID, open_referrals: int) -> None:
    """Copies of the template referral (text left empty, so no data key) up to
    ``open_referrals``, and three pending steps each, ``DUE`` of them due now."""
    import asyncpg

    connection = await asyncpg.connect(url)
    now = datetime.now(UTC)
    try:
        columns = [
            row["column_name"]
            for row in await connection.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'referral' "
                "ORDER BY ordinal_position"
            )
        ]
        copied = ", ".join(
            "gen_random_uuid()" if c == "id" else "''" if c in SEALED_TEXT else f'"{c}"' for c in columns
        )
        listed = ", ".join(f'"{c}"' for c in columns)
        await connection.execute(
            f"INSERT INTO referral ({listed}) SELECT {copied} FROM referral, generate_series(1, $2) "  # noqa: S608
            "WHERE referral.id = $1",
            template,
            open_referrals - 1,
        )
        await connection.execute(
            "INSERT INTO automation_step (id, referral, rule, rung, audience, due_at, deadline, status,"
            " attempts, late, created_at)"
            " SELECT gen_random_uuid(), r.id, s.rule, s.rung, s.audience,"
            " CASE WHEN s.rung = 2 AND r.n <= $1 THEN $2::timestamptz"
            " ELSE $3::timestamptz + (r.n % 1000) * interval '1 minute' END,"
            " $4::timestamptz, 'PENDING', 0, false, $5::timestamptz"
            " FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM referral) AS r,"
            " (VALUES ('RESPOND_REMINDER', 0, 'RECEIVING_PROVIDER'),"
            "         ('RESPOND_ESCALATION', 2, 'RECEIVING_COORDINATORS'),"
            "         ('EXPIRY', 10, 'NOBODY')) AS s(rule, rung, audience)",
            DUE,
            now - timedelta(seconds=5),
            now + timedelta(days=2),
            now + timedelta(days=3),
            now,
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def _claim_all(url: str, now: datetime) -> tuple[float, int]:
    """Claim every due step as the runner does, in batches; (seconds, claimed)."""
    import asyncpg

    from backend.automation.repository import COLUMNS
    from backend.core.leases import claim_statement
    from backend.db import _numbered_placeholders

    statement = _numbered_placeholders(
        claim_statement("automation_step", due_column="due_at", columns=COLUMNS, is_sqlite=False)
    )
    connection = await asyncpg.connect(url)
    try:
        claimed = 0
        started = time.perf_counter()
        while True:
            async with connection.transaction():
                rows = await connection.fetch(
                    statement, now + timedelta(seconds=60), "PENDING", now, now, BATCH
                )
            claimed += len(rows)
            if len(rows) < BATCH:
                break
        return time.perf_counter() - started, claimed
    finally:
        await connection.execute(
            "UPDATE automation_step SET claimed_until = NULL, attempts = 0 WHERE claimed_until IS NOT NULL"
        )
        await connection.close()


async def _make_due(url: str, count: int) -> list[Any]:
    """``count`` pending escalations made due two seconds ago (fresh ones each round)."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return list(
            await connection.fetch(
                "UPDATE automation_step SET due_at = $1 WHERE id IN (SELECT id FROM automation_step"
                " WHERE status = 'PENDING' AND rule = 'RESPOND_ESCALATION' AND due_at > $1"
                " ORDER BY id LIMIT $2)"
                " RETURNING id, referral",
                datetime.now(UTC) - timedelta(seconds=2),
                count,
            )
        )
    finally:
        await connection.close()


async def _fire_candidate(container: Any) -> tuple[float, float, int]:
    from backend.automation.runner import Runner
    from backend.settings import AutomationSettings

    database = container.database
    await database.start()
    runner = Runner(database, AutomationSettings(batch=BATCH))
    try:
        started, cpu = time.perf_counter(), time.process_time()
        fired = 0
        while (claimed := await runner.run_once()) > 0:
            fired += claimed
        if runner.counters.fired != fired:
            raise BenchError(f"the runner claimed {fired} steps but fired {runner.counters.fired}")
        return time.perf_counter() - started, time.process_time() - cpu, fired
    finally:
        await database.stop()


async def _fire_plain(url: str, steps: list[Any], users: dict[str, uuid.UUID]) -> tuple[float, float, int]:
    """The same rows per step, hand-written, one transaction each."""
    import asyncpg

    recipients = sorted(users.values(), key=str)
    connection = await asyncpg.connect(url)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        for step in steps:
            now = datetime.now(UTC)
            event_id = uuid.uuid4()
            async with connection.transaction():
                await connection.execute(
                    "UPDATE automation_step SET status = 'FIRED', fired_at = $1, claimed_until = NULL"
                    " WHERE id = $2 AND status = 'PENDING'",
                    now,
                    step["id"],
                )
                await connection.execute(
                    "INSERT INTO referral_event (uid, referral, actor, action, from_status, to_status,"
                    " reason_code, note, occurred_at) VALUES ($1, $2, NULL, 'ESCALATE', 'SENT', 'SENT',"
                    " 'RESPOND_ESCALATION', 'Respond escalation sent to the receiving coordinators.', $3)",
                    uuid.uuid4(),
                    step["referral"],
                    now,
                )
                await connection.execute(
                    'WITH cursor AS (INSERT INTO stream_cursor (id, "user", last_sequence)'
                    " SELECT gen_random_uuid(), u, 1 FROM unnest($1::uuid[]) AS u"
                    ' ON CONFLICT ("user") DO UPDATE SET last_sequence = stream_cursor.last_sequence + 1'
                    ' RETURNING "user", last_sequence)'
                    ' INSERT INTO stream_event ("user", sequence, event_id, type, referral, payload,'
                    " occurred_at) SELECT \"user\", last_sequence, $2, 'AUTOMATION_STEP_FIRED', $3, $4::json,"
                    " $5 FROM cursor",
                    recipients,
                    event_id,
                    step["referral"],
                    '{"rule": "RESPOND_ESCALATION", "audience": "RECEIVING_COORDINATORS", "late": false}',
                    now,
                )
                await connection.execute(
                    'INSERT INTO push_outbox (id, device, "user", category, event_id, message, status,'
                    ' attempts, next_attempt_at, created_at) SELECT gen_random_uuid(), id, "user",'
                    " 'ESCALATIONS', $1, '{}'::json, 'PENDING', 0, $2, $2 FROM push_device"
                    ' WHERE "user" = $3',
                    event_id,
                    now,
                    users["receiving_coordinator"],
                )
                head = await connection.fetchval(
                    "SELECT row_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE"
                )
                digest = secrets.token_hex(32)
                await connection.execute(
                    "WITH appended AS (INSERT INTO audit_log (occurred_at, action, outcome, object_type,"
                    " object_id, client_address, request_id, prev_hash, row_hash) VALUES ($1,"
                    " 'referrals.referral.automated_step', 'SUCCESS', 'Referral', $2, 'system', 'bench',"
                    " $3, $4))"
                    " UPDATE audit_chain_head SET row_hash = $4 WHERE id = 1",
                    now,
                    str(step["referral"]),
                    head or "",
                    digest,
                )
        return time.perf_counter() - started, time.process_time() - cpu, len(steps)
    finally:
        await connection.close()


async def _run(urls: dict[str, str], names: dict[str, str], started: float) -> int:
    from backend.container import build_container
    from backend.migrations_tools import migrate
    from backend.settings import get_settings

    await migrate()  # SMALL (DATABASE_URL)
    container = build_container(get_settings())
    seeded = await _seed_people(container)
    await admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{names['small']}' "  # noqa: S608
        "AND pid <> pg_backend_pid()",
        f'CREATE DATABASE "{names["large"]}" TEMPLATE "{names["small"]}"',
    )
    await _grow(urls["small"], seeded["template"], SMALL)
    await _grow(urls["large"], seeded["template"], LARGE)
    setup = time.perf_counter() - started

    now = datetime.now(UTC)
    ticks: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(ROUNDS):
        for side in ("small", "large"):
            seconds, claimed = await _claim_all(urls[side], now)
            if claimed != DUE:
                raise BenchError(f"{side}: claimed {claimed} due steps, expected {DUE}")
            ticks[side].append(seconds)
    small_ms, large_ms = statistics.median(ticks["small"]) * 1000, statistics.median(ticks["large"]) * 1000

    fire: dict[str, list[tuple[float, float, int]]] = {"careloop": [], "plain": []}
    # the due steps of the tick rounds fire first, untimed
    await _fire_candidate(container)
    for _ in range(FIRE_ROUNDS):
        await _make_due(urls["small"], FIRE)
        if os.environ.get("BENCH_PROFILE"):  # where a fired step's CPU goes (not timed)
            import cProfile
            import pstats

            profile = cProfile.Profile()
            profile.enable()
            await _fire_candidate(container)
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(40)
            await _make_due(urls["small"], FIRE)
        fire["careloop"].append(await _fire_candidate(container))
        steps = await _make_due(urls["small"], FIRE)
        fire["plain"].append(await _fire_plain(urls["small"], steps, seeded["users"]))
    rate = {side: statistics.median(n / s for s, _, n in runs) for side, runs in fire.items()}
    cpu = {side: statistics.median(c / n * 1000 for _, c, n in runs) for side, runs in fire.items()}
    rounds = ", ".join(
        f"{small * 1000:.1f}/{large * 1000:.1f}"
        for small, large in zip(ticks["small"], ticks["large"], strict=True)
    )
    print(
        f"tick (claim {DUE:,} due steps in batches of {BATCH}): {SMALL:,} open referrals {small_ms:.1f} ms, "
        f"{LARGE:,} open {large_ms:.1f} ms (rounds small/large: {rounds})"
    )
    print(
        f"fire {FIRE} steps x {FIRE_ROUNDS}: careloop {rate['careloop']:.0f} steps/s "
        f"({cpu['careloop']:.2f} ms CPU per step in this process), plain asyncpg {rate['plain']:.0f} steps/s "
        f"({cpu['plain']:.2f} ms CPU per step)"
    )
    print(f"wall time {time.perf_counter() - started:.1f} s (setup {setup:.1f} s)")
    print(
        json.dumps(
            {
                "figure": "automation_tick_scaling",
                "value": round(large_ms / small_ms, 3),
                "candidate": round(large_ms, 2),
                "baseline": round(small_ms, 2),
                "unit": "ms",
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "automation_fire_ratio",
                "value": round(rate["careloop"] / rate["plain"], 3),
                "candidate": round(rate["careloop"], 1),
                "baseline": round(rate["plain"], 1),
                "unit": "steps/s",
            }
        )
    )
    return 0


def main() -> int:
    var_dir = Path(tempfile.mkdtemp(prefix="careloop-bench-"))
    names = {"small": f"careloop_bench_auto_s_{os.getpid()}", "large": f"careloop_bench_auto_l_{os.getpid()}"}
    urls = {side: _url(name) for side, name in names.items()}
    drop_all = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names.values()]
    started = time.perf_counter()
    try:
        asyncio.run(admin(*drop_all, f'CREATE DATABASE "{names["small"]}"'))
    except Exception as error:
        print(f"bench-automation needs PostgreSQL at {ADMIN_URL.split('@')[-1]}: {error!r}", file=sys.stderr)
        return 1
    try:
        _configure_environment(var_dir, urls["small"])
        return asyncio.run(_run(urls, names, started))
    except BenchError as error:
        print(f"bench-automation failed: {error}", file=sys.stderr)
        return 1
    finally:
        asyncio.run(admin(*drop_all))
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
