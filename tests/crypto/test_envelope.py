"""Envelope encryption: what decrypts, and everything that must not."""

from __future__ import annotations

import base64
import os

import pytest

from backend.crypto import envelope
from backend.crypto.keys import KeyEncryptionKeys

KEKS = KeyEncryptionKeys("v1", {"v1": os.urandom(32)}, is_development=False)


def _sealed(text: str = "Palpitations since March") -> tuple[bytes, str]:
    data_key = envelope.new_data_key()
    return data_key, envelope.encrypt_field(data_key, text, scope="referral", record_id="r1", field="reason")


def test_a_field_round_trips_and_the_ciphertext_does_not_contain_the_text() -> None:
    data_key, stored = _sealed()
    assert "Palpitations" not in stored
    assert envelope.decrypt_field(data_key, stored, scope="referral", record_id="r1", field="reason") == (
        "Palpitations since March"
    )


@pytest.mark.parametrize(
    ("record_id", "field"),
    [("r2", "reason"), ("r1", "clinical_question")],
    ids=["other record", "other field"],
)
def test_a_ciphertext_moved_to_another_record_or_field_fails(record_id: str, field: str) -> None:
    data_key, stored = _sealed()
    with pytest.raises(envelope.DecryptionFailed):
        envelope.decrypt_field(data_key, stored, scope="referral", record_id=record_id, field=field)


def test_one_flipped_bit_fails_instead_of_returning_garbled_text() -> None:
    data_key, stored = _sealed()
    raw = bytearray(base64.b64decode(stored.removeprefix("e1:")))
    raw[20] ^= 0x01
    with pytest.raises(envelope.DecryptionFailed):
        envelope.decrypt_field(
            data_key,
            "e1:" + base64.b64encode(bytes(raw)).decode(),
            scope="referral",
            record_id="r1",
            field="reason",
        )


def test_a_wrapped_data_key_is_bound_to_its_record_and_needs_its_kek_version() -> None:
    data_key = envelope.new_data_key()
    wrapped = envelope.wrap_data_key(KEKS, data_key, scope="referral", record_id="r1")
    assert envelope.wrapped_with(wrapped) == "v1"
    assert envelope.unwrap_data_key(KEKS, wrapped, scope="referral", record_id="r1") == data_key
    with pytest.raises(envelope.DecryptionFailed):
        envelope.unwrap_data_key(KEKS, wrapped, scope="referral", record_id="r2")
    rotated = KeyEncryptionKeys("v2", {"v2": os.urandom(32)}, is_development=False)
    with pytest.raises(envelope.DecryptionFailed):
        envelope.unwrap_data_key(rotated, wrapped, scope="referral", record_id="r1")
