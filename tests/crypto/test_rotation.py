"""KEK rotation: every data key re-wrapped under a new current version by a job that may be killed
and rerun, while the running server keeps reading (it re-reads the key file by itself).

The tests edit the real key file of the run (the development file under CARELOOP_VAR_DIR) and
put it back afterwards, with every data key re-wrapped under the original version again.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from backend.crypto import keys
from backend.crypto.envelope import wrapped_with
from backend.crypto.rotation import count_stale_data_keys, rotate_data_keys
from backend.referrals.tables import Referral
from backend.settings import get_settings
from backend.tables import ALL_TABLES
from backend.wiring import WRAPPED_KEYS
from tests.conftest import LiveServer
from tests.support.graphql_ids import uuid_of
from tests.support.messaging import ATTACHMENT, attachment, referral_chat
from tests.support.referrals import World

ROTATE = (sys.executable, "-m", "backend", "keys", "rotate")
TEXTS = (
    ("Wombat syncope episodes", "Loop recorder for the wombat?"),
    ("Capybara chest pain on exertion", "Capybara stress test?"),
    ("Axolotl murmur since infancy", "Axolotl valve assessment?"),
)
NOTE = "Pangolin echo from last spring?"
CHAT_TEXT = "Gharial holter results are in"
CHAT_FILE = b"Saola attachment content"


def _b64_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _write_atomically(path: Path, content: bytes) -> None:
    staging = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    staging.write_bytes(content)
    staging.chmod(0o600)
    staging.replace(path)


class KeyFile:
    """The run's key file: add a current version, and put everything back as it was."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.original = path.read_bytes()
        self.document: dict[str, Any] = json.loads(self.original)
        self.first_version: str = self.document["current"]
        self.added = False

    def add_current_version(self) -> str:
        version = f"rot-{secrets.token_hex(3)}"
        self.document["keys"][version] = _b64_key()
        self.make_current(version)
        self.added = True
        return version

    def make_current(self, version: str) -> None:
        self.document["current"] = version
        _write_atomically(self.path, json.dumps(self.document).encode())

    def restore(self) -> None:
        _write_atomically(self.path, self.original)


@pytest.fixture
async def key_file(live_server: LiveServer) -> AsyncIterator[KeyFile]:
    key_file = KeyFile(keys.key_file(get_settings()))
    yield key_file
    if key_file.added:
        key_file.make_current(key_file.first_version)
        report = await rotate_data_keys(WRAPPED_KEYS, database=live_server.container.database)
        assert report.complete, report
    key_file.restore()
    keys.reload_key_encryption_keys()


async def _referrals_with_known_text(world: World) -> list[dict[str, Any]]:
    referrals = [await world.draft(reason=reason, clinicalQuestion=question) for reason, question in TEXTS]
    referrals[0] = await world.step("SEND", referrals[0], world.referrer)
    referrals[0] = await world.step("REQUEST_INFO", referrals[0], world.specialist, note=NOTE)
    return referrals


async def _wrapped_keys(referrals: list[dict[str, Any]]) -> dict[UUID, str]:
    rows = await Referral.select(Referral.id, Referral.wrapped_key).where(
        Referral.id.is_in([UUID(uuid_of(referral["id"])) for referral in referrals])
    )
    return {UUID(str(row["id"])): row["wrapped_key"] for row in rows}


async def _rotate_command(*arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *ROTATE,
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LOG_LEVEL": "INFO"},
    )


async def test_a_rotation_killed_after_its_first_batch_then_rerun_rewraps_every_key_and_the_server_reads_on(
    world: World, key_file: KeyFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given referrals with known clinical text and a timeline note, and a chat message with an
    # attachment, under the first KEK version
    referrals = await _referrals_with_known_text(world)
    chat = await referral_chat(world, referrals[0])
    sent = await chat.send(world.referrer, CHAT_TEXT, attachments=[attachment("scan.txt", CHAT_FILE)])
    assert {wrapped_with(key) for key in (await _wrapped_keys(referrals)).values()} == {
        key_file.first_version
    }
    # and a key file with a second version as current (the first kept), which the running server
    # only learns about from a key wrapped with it: no periodic re-check during this test
    monkeypatch.setattr(keys, "RECHECK_SECONDS", 3600.0)
    new_version = key_file.add_current_version()
    stale_before = sum((await count_stale_data_keys(WRAPPED_KEYS, new_version)).values())
    assert stale_before >= len(referrals)

    # when the rotation command runs one key per batch and is killed after its first batch line
    # (during the pause that follows it, so the kill surely lands before the last batch)
    first = await _rotate_command("--batch-size", "1", "--pause", "2")
    assert first.stdout is not None
    first_line = (await asyncio.wait_for(first.stdout.readline(), timeout=30)).decode()
    first.kill()
    first_output, first_log = await asyncio.wait_for(first.communicate(), timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert first_line.startswith("referral batch 1: 1 re-wrapped"), (first_line, first_log)
    stale_after_kill = sum((await count_stale_data_keys(WRAPPED_KEYS, new_version)).values())
    assert 0 < stale_after_kill < stale_before

    # and is run again to completion
    second = await _rotate_command("--batch-size", "1")
    second_output, second_log = await asyncio.wait_for(second.communicate(), timeout=60)
    assert second.returncode == 0, second_log.decode()
    summary = second_output.decode()
    assert f"current version {new_version}: {stale_after_kill} data key(s) re-wrapped" in summary
    assert "0 still wrapped by another version" in summary

    # then no data key is wrapped by the old version any more
    assert await count_stale_data_keys(WRAPPED_KEYS, new_version) == dict.fromkeys(
        (entry.name for entry in WRAPPED_KEYS), 0
    )
    assert {wrapped_with(key) for key in (await _wrapped_keys(referrals)).values()} == {new_version}
    # and the running server reads every referral's clinical text and note
    for referral, (reason, question) in zip(referrals, TEXTS, strict=True):
        read = await world.read(referral["id"], world.referrer)
        assert read is not None
        assert (read["reason"], read["clinicalQuestion"]) == (reason, question)
    read = await world.read(referrals[0]["id"], world.specialist)
    assert read is not None
    assert read["timeline"][-1]["note"] == NOTE
    # and every chat message and attachment
    [message] = [edge["node"] for edge in (await chat.messages(world.referrer))["edges"]]
    assert message["body"] == CHAT_TEXT
    content = await world.api.data(
        ATTACHMENT, {"id": sent["attachments"][0]["id"]}, token=world.referrer.token
    )
    assert base64.b64decode(content["messageAttachment"]["contentBase64"]) == CHAT_FILE
    # and, having re-read the file, wraps new data keys with the new current version
    later = await world.draft(reason="Later referral")
    assert {wrapped_with(key) for key in (await _wrapped_keys([later])).values()} == {new_version}
    # and neither run wrote any clinical text to its output or log
    everything = b"".join((first_line.encode(), first_output, first_log, second_output, second_log))
    assert all(text.encode() not in everything for pair in TEXTS for text in pair)
    assert NOTE.encode() not in everything
    assert CHAT_TEXT.encode() not in everything


async def test_a_second_rotation_is_a_no_op(world: World, key_file: KeyFile, live_server: LiveServer) -> None:
    # given referrals under the first version, and a new current version
    referrals = await _referrals_with_known_text(world)
    new_version = key_file.add_current_version()
    database = live_server.container.database

    # when the rotation runs twice
    batches: list[int] = []
    first = await rotate_data_keys(WRAPPED_KEYS, batch_size=2, database=database)
    wrapped_after_first = await _wrapped_keys(referrals)
    second = await rotate_data_keys(
        WRAPPED_KEYS, batch_size=2, on_batch=lambda batch: batches.append(batch.number), database=database
    )

    # then the first re-wrapped them, and the second found nothing to do and changed nothing
    assert first.current_version == second.current_version == new_version
    assert first.rotated >= len(referrals)
    assert first.complete
    assert second.rotated == 0
    assert batches == []
    assert second.already_current == first.already_current + first.rotated
    assert second.complete
    assert await _wrapped_keys(referrals) == wrapped_after_first
    read = await world.read(referrals[1]["id"], world.referrer)
    assert read is not None
    assert read["reason"] == TEXTS[1][0]


async def test_a_key_that_does_not_unwrap_is_reported_left_in_place_and_the_rest_rotated(
    world: World, key_file: KeyFile, live_server: LiveServer
) -> None:
    # given two referrals, one of whose keys names a version the key file no longer has
    referrals = [await world.draft(reason=reason) for reason, _ in TEXTS[:2]]
    broken_id = UUID(uuid_of(referrals[0]["id"]))
    original = (await _wrapped_keys(referrals))[broken_id]
    orphan = "gone:" + original.partition(":")[2]
    await Referral.update({Referral.wrapped_key: orphan}).where(Referral.id == broken_id)
    new_version = key_file.add_current_version()
    try:
        # when the rotation runs
        report = await rotate_data_keys(WRAPPED_KEYS, database=live_server.container.database)
        # then that key is reported and left as it is, and the other one is rotated
        wrapped = await _wrapped_keys(referrals)
    finally:
        await Referral.update({Referral.wrapped_key: original}).where(Referral.id == broken_id)
    assert report.unreadable == 1
    assert not report.complete
    assert report.remaining["referral"] == 1
    assert wrapped[broken_id] == orphan
    assert wrapped_with(wrapped[UUID(uuid_of(referrals[1]["id"]))]) == new_version


def test_every_table_with_a_wrapped_key_is_registered_for_rotation() -> None:
    with_wrapped_key = {
        table._meta.tablename
        for table in ALL_TABLES
        if any(column._meta.name == "wrapped_key" for column in table._meta.columns)
    }
    assert with_wrapped_key == {entry.name for entry in WRAPPED_KEYS}, (
        "declare the table's WrappedKeys in its repository and list it in backend/wiring.py"
        " WRAPPED_KEYS, or its keys are never rotated"
    )


@pytest.fixture
def own_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A key file of this test's own, as the process's configured one (put back afterwards)."""
    path = tmp_path / "data-keys.json"
    monkeypatch.setattr(keys, "get_settings", lambda: replace(get_settings(), data_keys_file=path))
    monkeypatch.setattr(keys, "_loaded", None)
    return path


def _write_ring(path: Path, current: str, versions: dict[str, str]) -> None:
    _write_atomically(path, json.dumps({"current": current, "keys": versions}).encode())


def test_an_unknown_version_rereads_a_changed_file_once_and_a_known_one_never_touches_it(
    own_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "RECHECK_SECONDS", 3600.0)
    v1, v2 = _b64_key(), _b64_key()
    _write_ring(own_key_file, "v1", {"v1": v1})
    ring = keys.key_encryption_keys()
    assert ring.current_version == "v1"

    # a version nobody wrote: the unchanged file is not re-read
    assert ring.key("v2") is None
    assert keys.key_encryption_keys() is ring

    # a new current version in the file: found, and new data keys are wrapped with it
    _write_ring(own_key_file, "v2", {"v1": v1, "v2": v2})
    assert ring.key("v2") == base64.b64decode(v2)
    assert keys.key_encryption_keys().current_version == "v2"

    # known versions need no file at all
    own_key_file.unlink()
    assert ring.key("v1") == base64.b64decode(v1)
    assert keys.key_encryption_keys().key("v2") == base64.b64decode(v2)

    # a file that does not parse (half written) keeps the ring in use
    own_key_file.write_text('{"current": "v3", "keys": {')
    assert keys.key_for_version("v3") is None
    assert keys.key_encryption_keys().current_version == "v2"


def test_a_new_current_version_is_picked_up_by_the_periodic_check(
    own_key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = _b64_key()
    _write_ring(own_key_file, "v1", {"v1": v1})
    assert keys.key_encryption_keys().current_version == "v1"
    _write_ring(own_key_file, "v2", {"v1": v1, "v2": _b64_key()})
    assert keys.key_encryption_keys().current_version == "v1"
    monkeypatch.setattr(keys, "RECHECK_SECONDS", 0.0)
    assert keys.key_encryption_keys().current_version == "v2"
