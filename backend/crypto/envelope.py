"""Envelope encryption of record fields (AES-256-GCM).

    record ── data key (random 32 bytes) ── wrapped by the current KEK, AAD = "dek|<scope>|<id>"
                                            stored as "<kek version>:<base64 nonce+ciphertext>"
    field  ── key = HKDF-SHA256(data key, info = "field|<scope>|<name>")
              ciphertext = AES-GCM(key, nonce, text, AAD = "<scope>|<id>|<name>")
              stored as "e1:<base64 nonce+ciphertext>"

The associated data binds each ciphertext to its record and field: moved to another row or
field, or altered by one bit, it fails to decrypt (``DecryptionFailed``), never returning partial
text. The data key is per record, so rotating a KEK re-wraps keys, not data.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.crypto.keys import KeyEncryptionKeys
from backend.logging import get_logger

logger = get_logger(__name__)
FIELD_PREFIX = "e1:"
BYTES_PREFIX = b"\x00cle1"
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """A ciphertext or wrapped key does not decrypt: tampered, moved, or a missing KEK."""

    def __init__(self, scope: str, record_id: str, what: str) -> None:
        super().__init__(f"{scope} {record_id}: {what} does not decrypt")
        self.scope = scope
        self.record_id = record_id
        self.what = what


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(keks: KeyEncryptionKeys, data_key: bytes, *, scope: str, record_id: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(keks.current).encrypt(nonce, data_key, _dek_aad(scope, record_id))
    return f"{keks.current_version}:{base64.b64encode(nonce + sealed).decode()}"


def unwrap_data_key(keks: KeyEncryptionKeys, wrapped: str, *, scope: str, record_id: str) -> bytes:
    version, _, payload = wrapped.partition(":")
    key = keks.key(version)
    try:
        if key is None:
            raise InvalidTag
        raw = base64.b64decode(payload)
        return AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _dek_aad(scope, record_id))
    except (InvalidTag, ValueError):
        _alert(scope, record_id, "data key")
        raise DecryptionFailed(scope, record_id, "data key") from None


def wrapped_with(wrapped: str) -> str:
    """The KEK version a wrapped data key needs."""
    return wrapped.partition(":")[0]


def encrypt_field(data_key: bytes, text: str, *, scope: str, record_id: str, field: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_field_key(data_key, scope, field)).encrypt(
        nonce, text.encode(), _field_aad(scope, record_id, field)
    )
    return FIELD_PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt_field(data_key: bytes, stored: str, *, scope: str, record_id: str, field: str) -> str:
    try:
        if not stored.startswith(FIELD_PREFIX):
            raise InvalidTag
        raw = base64.b64decode(stored[len(FIELD_PREFIX) :])
        plain = AESGCM(_field_key(data_key, scope, field)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _field_aad(scope, record_id, field)
        )
        return plain.decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        _alert(scope, record_id, field)
        raise DecryptionFailed(scope, record_id, field) from None


def encrypt_bytes(data_key: bytes, content: bytes, *, scope: str, record_id: str, field: str) -> bytes:
    """Like :func:`encrypt_field` for binary content (stored with a ``BYTES_PREFIX`` marker)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(_field_key(data_key, scope, field)).encrypt(
        nonce, content, _field_aad(scope, record_id, field)
    )
    return BYTES_PREFIX + nonce + sealed


def is_sealed_bytes(stored: bytes) -> bool:
    return stored.startswith(BYTES_PREFIX)


def decrypt_bytes(data_key: bytes, stored: bytes, *, scope: str, record_id: str, field: str) -> bytes:
    try:
        if not is_sealed_bytes(stored):
            raise InvalidTag
        raw = stored[len(BYTES_PREFIX) :]
        return AESGCM(_field_key(data_key, scope, field)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], _field_aad(scope, record_id, field)
        )
    except (InvalidTag, ValueError):
        _alert(scope, record_id, field)
        raise DecryptionFailed(scope, record_id, field) from None


def _field_key(data_key: bytes, scope: str, field: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"field|{scope}|{field}".encode()
    ).derive(data_key)


def _dek_aad(scope: str, record_id: str) -> bytes:
    return f"dek|{scope}|{record_id}".encode()


def _field_aad(scope: str, record_id: str, field: str) -> bytes:
    return f"{scope}|{record_id}|{field}".encode()


def _alert(scope: str, record_id: str, what: str) -> None:
    logger.error("crypto.decryption_failed", scope=scope, record_id=record_id, what=what)
