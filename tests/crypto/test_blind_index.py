"""The blind-index key: a dedicated key from DATA_KEYS_FILE, never a KEK, required once used."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from backend.crypto import blind_index
from backend.settings import SettingsError, load_settings

KEY = os.urandom(32)


def _key_file(path: Path, **extra: str) -> Path:
    kek = base64.b64encode(os.urandom(32)).decode()
    path.write_text(json.dumps({"current": "v1", "keys": {"v1": kek}, **extra}))
    return path


def test_the_index_normalizes_and_depends_on_the_key_scope_and_field() -> None:
    index = blind_index.compute(KEY, " ab-12 ", scope="patient", field="mrn")
    assert index == blind_index.compute(KEY, "AB-12", scope="patient", field="mrn")
    assert index != blind_index.compute(os.urandom(32), "AB-12", scope="patient", field="mrn")
    assert index != blind_index.compute(KEY, "AB-12", scope="patient", field="other")
    assert index != blind_index.compute(KEY, "AB-13", scope="patient", field="mrn")


def test_the_development_file_gets_a_key_that_stays_the_same(tmp_path: Path) -> None:
    settings = load_settings({"CARELOOP_ENV": "dev", "CARELOOP_VAR_DIR": str(tmp_path)})
    first = blind_index.load_blind_index_key(settings)
    assert len(first) == 32
    assert blind_index.load_blind_index_key(settings) == first


def test_a_configured_file_must_name_a_dedicated_32_byte_key(tmp_path: Path) -> None:
    def load(path: Path) -> bytes:
        return blind_index.load_blind_index_key(
            load_settings({"CARELOOP_ENV": "test", "DATA_KEYS_FILE": str(path)})
        )

    with pytest.raises(SettingsError, match="`blind_index_key`"):
        load(_key_file(tmp_path / "none.json"))
    with pytest.raises(SettingsError, match="32 bytes"):
        load(_key_file(tmp_path / "short.json", blind_index_key=base64.b64encode(b"short").decode()))
    same = tmp_path / "same.json"
    document = json.loads(_key_file(same).read_text())
    same.write_text(json.dumps({**document, "blind_index_key": document["keys"]["v1"]}))
    with pytest.raises(SettingsError, match="not be one of the key-encryption keys"):
        load(same)
    assert load(_key_file(tmp_path / "ok.json", blind_index_key=base64.b64encode(KEY).decode())) == KEY
