"""Blind indexes: exact-match lookups on an encrypted field without decrypting it.

    key   = HKDF-SHA256(blind_index_key, info = "blind-index|<scope>|<field>")
    index = hex(HMAC-SHA256(key, normalized value))            (64 characters)
    normalized value = the value stripped of surrounding spaces, in upper case

``blind_index_key`` is a dedicated key (base64 of 32 random bytes) in the ``DATA_KEYS_FILE`` JSON
beside the KEKs: ``{"current": …, "keys": {…}, "blind_index_key": "…"}``; never in the database.
It is required wherever indexed values are written or looked up, so in production; the generated
development file gets one added on first use.

Unlike a plain hash, which anyone can compute for every candidate of a small space such as MRNs
and compare with a dump, the index cannot be computed without that key. It does reveal equality:
two rows of one scope and field with the same normalized value have the same index (which is what
makes lookups and uniqueness work).

The key is deliberately not a KEK nor derived from one, and is read once per process: KEK rotation
must not change it, and it must stay the same for as long as indexes computed with it are stored
(another key makes every stored index unfindable until all are recomputed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.crypto.keys import DEV_MARKER, load_key_encryption_keys
from backend.logging import get_logger
from backend.settings import Settings, SettingsError, get_settings

logger = get_logger(__name__)
FIELD = "blind_index_key"


def normalized(value: str) -> str:
    return value.strip().upper()


def compute(index_key: bytes, value: str, *, scope: str, field: str) -> str:
    """The blind index of ``value`` under ``index_key`` (the ``blind_index_key``)."""
    return hmac.new(
        _field_key(index_key, scope, field), normalized(value).encode(), hashlib.sha256
    ).hexdigest()


def blind_index(value: str, *, scope: str, field: str) -> str:
    """The blind index of ``value`` under the configured ``blind_index_key``."""
    return compute(blind_index_key(), value, scope=scope, field=field)


@lru_cache(maxsize=1)
def blind_index_key() -> bytes:
    return load_blind_index_key(get_settings())


def load_blind_index_key(settings: Settings) -> bytes:
    path = settings.data_keys_file
    if path is None:
        load_key_encryption_keys(settings)  # refuses production, generates the development file
        path = settings.var_dir / "data-keys.dev.json"
        _add_development_key(path)
    try:
        key = base64.b64decode(json.loads(path.read_text())[FIELD], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise SettingsError(f"DATA_KEYS_FILE: `{FIELD}` (base64 of 32 random bytes) is required") from None
    if len(key) != 32:
        raise SettingsError(f"DATA_KEYS_FILE: `{FIELD}` must be 32 bytes")
    if key in load_key_encryption_keys(settings).keys.values():
        raise SettingsError(f"DATA_KEYS_FILE: `{FIELD}` must not be one of the key-encryption keys")
    return key


def _add_development_key(path: Path) -> None:
    """The development file (generated without one, or before blind indexes) gets its index key."""
    document = json.loads(path.read_text())
    if document.get("marker") == DEV_MARKER and FIELD not in document:
        document[FIELD] = base64.b64encode(os.urandom(32)).decode()
        path.write_text(json.dumps(document))
        logger.warning("added a development blind-index key to %s", path)


@lru_cache(maxsize=16)
def _field_key(index_key: bytes, scope: str, field: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"blind-index|{scope}|{field}".encode()
    ).derive(index_key)
