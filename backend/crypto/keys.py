"""The key-encryption keys (KEKs): versioned AES-256 keys that never live in the database.

``DATA_KEYS_FILE`` holds ``{"current": "<version>", "keys": {"<version>": "<base64 32 bytes>"}}``.
Every version listed can unwrap; new data keys are wrapped with ``current``. In development a
file is generated once under ``CARELOOP_VAR_DIR`` (marked, refused in production).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from functools import lru_cache

from backend.logging import get_logger
from backend.settings import Settings, SettingsError, get_settings

logger = get_logger(__name__)
DEV_MARKER = "careloop-development-data-keys"


@dataclass(frozen=True, slots=True)
class KeyEncryptionKeys:
    current_version: str
    keys: dict[str, bytes]
    is_development: bool

    @property
    def current(self) -> bytes:
        return self.keys[self.current_version]


def _parse(raw: str) -> KeyEncryptionKeys:
    document = json.loads(raw)
    keys = {str(version): base64.b64decode(value) for version, value in document["keys"].items()}
    if any(len(key) != 32 for key in keys.values()) or document["current"] not in keys:
        raise SettingsError("DATA_KEYS_FILE: 32-byte keys, and `current` must name one of them")
    if any(":" in version for version in keys):
        raise SettingsError("DATA_KEYS_FILE: key versions may not contain ':'")
    return KeyEncryptionKeys(document["current"], keys, document.get("marker") == DEV_MARKER)


def load_key_encryption_keys(settings: Settings) -> KeyEncryptionKeys:
    path = settings.data_keys_file
    if path is None:
        if settings.is_prod:
            raise SettingsError("DATA_KEYS_FILE is required in production")
        path = settings.var_dir / "data-keys.dev.json"
        if not path.exists():
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            document = {
                "marker": DEV_MARKER,
                "current": "dev1",
                "keys": {"dev1": base64.b64encode(os.urandom(32)).decode()},
            }
            path.write_text(json.dumps(document))
            path.chmod(0o600)
            logger.warning("generated development data-encryption keys at %s", path)
    ring = _parse(path.read_text())
    if settings.is_prod and ring.is_development:
        raise SettingsError("refusing to start in production with the development data keys")
    return ring


@lru_cache(maxsize=1)
def key_encryption_keys() -> KeyEncryptionKeys:
    return load_key_encryption_keys(get_settings())
