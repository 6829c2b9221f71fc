"""`python -m tools.demo` on an empty database: the demo referral domain, consistent, seeded once.

The seed runs in a subprocess against its own SQLite file (as `make run` does) and the file is
then read with sqlite3, so nothing here depends on the app or the test server.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.referrals.lifecycle import Priority, Status
from backend.settings import PROJECT_ROOT

COUNTED_TABLES = (
    "organization",
    "app_user",
    "provider",
    "provider_location",
    "provider_plan",
    "network_link",
    "insurance_plan",
    "protocol",
    "protocol_version",
    "patient",
    "referral",
    "referral_event",
    "appointment",
    "document",
)
NO_DEADLINE_YEAR = 9999
NO_DEADLINE_STATUSES = {"DRAFT", "NEEDS_INFO", "DECLINED", "CLOSED", "CANCELLED", "EXPIRED"}


@dataclass(frozen=True)
class Seeded:
    database: Path
    started_at: datetime
    outputs: tuple[str, str]
    counts_after_first: dict[str, int]
    counts_after_second: dict[str, int]


def _run(env: dict[str, str], module: str, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *command],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _succeeds(env: dict[str, str], module: str, *command: str) -> str:
    result = _run(env, module, *command)
    assert result.returncode == 0, f"{module} {command}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - fixed names
            for table in COUNTED_TABLES
        }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    tmp_path = tmp_path_factory.mktemp("seed")
    database = tmp_path / "seed.sqlite3"
    env = {
        **os.environ,
        "CARELOOP_ENV": "test",
        "CARELOOP_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{database}",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
        "PASSWORD_HASH_PARALLELISM": "1",
    }
    env.pop("REDIS_URL", None)
    started_at = datetime.now(UTC)
    _succeeds(env, "backend", "migrate")
    first = _succeeds(env, "tools.demo")
    counts_after_first = _counts(database)
    second = _succeeds(env, "tools.demo")
    return Seeded(database, started_at, (first, second), counts_after_first, _counts(database))


@pytest.fixture
def db(seeded: Seeded) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(seeded.database)
    connection.row_factory = sqlite3.Row
    yield connection
    connection.close()


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _events_by_referral(db: sqlite3.Connection) -> dict[str, list[sqlite3.Row]]:
    grouped: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for row in db.execute("SELECT * FROM referral_event ORDER BY id"):
        grouped[row["referral"]].append(row)
    return grouped


def test_seeding_twice_creates_the_demo_data_once(seeded: Seeded, db: sqlite3.Connection) -> None:
    # given an empty, migrated database
    # when the demo seed runs twice (the fixture)
    first, second = seeded.outputs

    # then the first run seeds, the second leaves every table as it was, and nothing was audited
    assert "demo data seeded" in first
    assert "database not empty" in second
    assert seeded.counts_after_second == seeded.counts_after_first
    assert seeded.counts_after_first["referral"] >= 190
    assert seeded.counts_after_first["patient"] >= 50
    assert db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_the_demo_seed_refuses_a_production_database(tmp_path: Path) -> None:
    # given production settings (valid ones: a signing key file named, PostgreSQL)
    env = {
        **os.environ,
        "CARELOOP_ENV": "prod",
        "CARELOOP_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgresql://careloop@127.0.0.1:1/careloop",
        "JWT_PRIVATE_KEY_FILE": str(tmp_path / "jwt.pem"),
        "PASSWORD_HASH_MEMORY_KIB": "19456",
    }
    # when the demo seed runs
    result = _run(env, "tools.demo")
    # then it refuses before touching the database: the demo accounts' password is published
    assert result.returncode == 1
    assert "refusing to seed demo accounts" in result.stderr
    assert "seeded" not in result.stdout


def test_seeded_patients_have_encrypted_and_indexed_mrns(db: sqlite3.Connection) -> None:
    # given the seeded patients, then none holds a plaintext MRN: each has a ciphertext, its
    # wrapped data key and a blind index, distinct within its organization
    rows = db.execute(
        "SELECT organization, mrn, mrn_ciphertext, mrn_index, wrapped_key FROM patient"
    ).fetchall()
    assert rows
    assert all(row["mrn"] == "" and row["mrn_ciphertext"].startswith("e1:") for row in rows)
    assert all(row["wrapped_key"] and len(row["mrn_index"] or "") == 64 for row in rows)
    assert len({(row["organization"], row["mrn_index"]) for row in rows}) == len(rows)


def test_every_referral_has_its_conversation_and_some_carry_sealed_demo_messages(
    db: sqlite3.Connection,
) -> None:
    from tools.demo.referrals import CHAT_OPENERS, CHAT_REPLIES

    # given the seeded referrals and their conversations
    referrals = db.execute("SELECT count(*) FROM referral").fetchone()[0]
    conversations = db.execute("SELECT count(*) FROM conversation WHERE kind = 'REFERRAL'").fetchone()[0]
    # then each referral has one, a good share hold a short exchange, and no body is in plaintext
    assert conversations == referrals
    bodies = [row["body"] for row in db.execute("SELECT body FROM message")]
    assert len(bodies) >= 40
    assert all(body.startswith("e1:") for body in bodies)
    dump = "\n".join(db.iterdump())
    assert not [text for text in (*CHAT_OPENERS, *CHAT_REPLIES) if text in dump]


def test_the_directory_is_big_enough_to_search(db: sqlite3.Connection) -> None:
    # given the seeded directory
    # when counting providers, their specialties, plans and locations
    providers = db.execute("SELECT count(*) FROM provider").fetchone()[0]
    specialties = db.execute("SELECT count(DISTINCT specialty) FROM provider_specialty").fetchone()[0]
    without_location = db.execute(
        "SELECT count(*) FROM provider WHERE id NOT IN (SELECT provider FROM provider_location)"
    ).fetchone()[0]
    not_accepting = db.execute("SELECT count(*) FROM provider WHERE NOT accepting_new_patients").fetchone()[0]

    # then search has something to rank
    assert providers >= 30
    assert specialties >= 10
    assert without_location == 0
    assert not_accepting >= 1


def test_referrals_cover_every_status_priority_and_receiving_specialty(db: sqlite3.Connection) -> None:
    # given the seeded referrals
    # when grouping them
    statuses = {row[0] for row in db.execute("SELECT DISTINCT status FROM referral")}
    priorities = {row[0] for row in db.execute("SELECT DISTINCT priority FROM referral")}
    referred = {row[0] for row in db.execute("SELECT DISTINCT specialty FROM referral")}
    receiving = {
        row[0]
        for row in db.execute(
            "SELECT DISTINCT ps.specialty FROM provider_specialty ps "
            "JOIN protocol p ON p.specialty = ps.specialty"
        )
    }
    leakage = db.execute(
        "SELECT count(*) FROM referral "
        "WHERE status = 'CANCELLED' AND status_reason = 'PATIENT_WENT_ELSEWHERE'"
    ).fetchone()[0]

    # then every status, priority and specialty someone receives in is represented
    assert statuses == {status.value for status in Status}
    assert priorities == {priority.value for priority in Priority}
    assert receiving <= referred
    assert leakage >= 1


def test_every_timeline_matches_its_referral(seeded: Seeded, db: sqlite3.Connection) -> None:
    # given every referral and its events in insertion order
    events = _events_by_referral(db)
    referrals = db.execute("SELECT * FROM referral").fetchall()
    window_start = seeded.started_at - timedelta(days=91)

    # then each row agrees with the last step of its timeline, and times only move forward
    for referral in referrals:
        timeline = events[referral["id"]]
        label = f"referral {referral['id']} ({referral['status']})"
        assert referral["version"] == len(timeline), label
        assert referral["status"] == timeline[-1]["to_status"], label
        assert (timeline[0]["action"], timeline[0]["from_status"]) == ("CREATE", None), label
        for before, after in itertools.pairwise(timeline):
            assert after["from_status"] == before["to_status"], label
            assert _time(after["occurred_at"]) > _time(before["occurred_at"]), label
        assert window_start <= _time(referral["created_at"]) <= seeded.started_at, label
        assert _time(timeline[-1]["occurred_at"]) <= seeded.started_at, label
        if referral["network_status"] == "OUT_OF_NETWORK":
            assert referral["out_of_network_reason"].strip(), label
        if referral["status"] in ("DECLINED", "CANCELLED"):
            assert referral["status_reason"], label


def test_due_times_are_what_the_service_would_have_set(seeded: Seeded, db: sqlite3.Connection) -> None:
    # given every referral, its last event and its booked appointment
    events = _events_by_referral(db)
    booked = {
        row["referral"]: row["starts_at"]
        for row in db.execute("SELECT referral, starts_at FROM appointment WHERE status = 'BOOKED'")
    }

    # then due_at follows the status: respond-by, schedule-by, the visit, the report, or no deadline
    overdue = 0
    for referral in db.execute("SELECT * FROM referral"):
        status, due_at = referral["status"], _time(referral["due_at"])
        label = f"referral {referral['id']} ({status})"
        if status in NO_DEADLINE_STATUSES:
            assert due_at.year == NO_DEADLINE_YEAR, label
        elif status in ("SENT", "IN_REVIEW"):
            assert due_at == _time(referral["respond_by"]), label
        elif status in ("ACCEPTED", "NO_SHOW"):
            assert due_at == _time(referral["schedule_by"]), label
        elif status == "SCHEDULED":
            assert due_at == _time(booked[referral["id"]]), label
        else:
            completed = _time(events[referral["id"]][-1]["occurred_at"])
            assert due_at == completed + timedelta(days=14), label
        assert due_at.microsecond == 0, label
        overdue += due_at < seeded.started_at
    assert overdue >= 5, "the inbox's overdue filter should have hits"
