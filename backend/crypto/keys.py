"""The key-encryption keys (KEKs): versioned AES-256 keys that never live in the database.

``DATA_KEYS_FILE`` holds ``{"current": "<version>", "keys": {"<version>": "<base64 32 bytes>"}}``.
Every version listed can unwrap; new data keys are wrapped with ``current``. In development a
file is generated once under ``CARELOOP_VAR_DIR`` (marked, refused in production).

A running process follows edits of the file without a restart:

    key_encryption_keys()   the ring read once and kept; every RECHECK_SECONDS one stat() of the
                            file, re-read only when its inode, size or mtime changed, so new data
                            keys follow a new ``current`` within that delay
    ring.key(version)       a version the ring knows costs no file access; an unknown one (a key
                            re-wrapped by ``python -m backend keys rotate``) re-reads the file at
                            once if it changed, and retries

A file that does not parse while it is being edited is logged and the ring in use is kept.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from backend.logging import get_logger
from backend.settings import Settings, SettingsError, get_settings

logger = get_logger(__name__)
DEV_MARKER = "careloop-development-data-keys"
RECHECK_SECONDS = 10.0
FileSignature = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class KeyEncryptionKeys:
    current_version: str
    keys: dict[str, bytes]
    is_development: bool
    reloadable: bool = field(default=False, compare=False)

    @property
    def current(self) -> bytes:
        return self.keys[self.current_version]

    def key(self, version: str) -> bytes | None:
        """The KEK of ``version``; the configured ring looks in a changed file for one it lacks."""
        known = self.keys.get(version)
        if known is not None or not self.reloadable:
            return known
        return key_for_version(version)


def _parse(raw: str) -> KeyEncryptionKeys:
    document = json.loads(raw)
    keys = {str(version): base64.b64decode(value) for version, value in document["keys"].items()}
    if any(len(key) != 32 for key in keys.values()) or document["current"] not in keys:
        raise SettingsError("DATA_KEYS_FILE: 32-byte keys, and `current` must name one of them")
    if any(":" in version for version in keys):
        raise SettingsError("DATA_KEYS_FILE: key versions may not contain ':'")
    return KeyEncryptionKeys(document["current"], keys, document.get("marker") == DEV_MARKER)


def key_file(settings: Settings) -> Path:
    """``DATA_KEYS_FILE``, or the development file (generated on first use)."""
    path = settings.data_keys_file
    if path is not None:
        return path
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
    return path


def load_key_encryption_keys(settings: Settings) -> KeyEncryptionKeys:
    return _read(settings, key_file(settings))


def _read(settings: Settings, path: Path) -> KeyEncryptionKeys:
    try:
        ring = _parse(path.read_text())
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise SettingsError(f"DATA_KEYS_FILE {path}: not a valid key file ({type(error).__name__})") from None
    if settings.is_prod and ring.is_development:
        raise SettingsError("refusing to start in production with the development data keys")
    return ring


@dataclass(slots=True)
class _Loaded:
    ring: KeyEncryptionKeys
    path: Path
    signature: FileSignature
    checked_at: float


_loaded: _Loaded | None = None


def _signature(path: Path) -> FileSignature:
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns


def key_encryption_keys() -> KeyEncryptionKeys:
    """The configured ring; re-read when the file changed (checked every RECHECK_SECONDS)."""
    loaded = _loaded
    if loaded is None:
        return reload_key_encryption_keys()
    if time.monotonic() - loaded.checked_at >= RECHECK_SECONDS:
        return _refreshed(loaded).ring
    return loaded.ring


def reload_key_encryption_keys() -> KeyEncryptionKeys:
    """Read the file now and keep that ring; a missing or invalid file raises ``SettingsError``."""
    global _loaded  # noqa: PLW0603
    settings = get_settings()
    path = key_file(settings)
    signature = _signature(path)  # before reading: a change after it is seen by the next check
    ring = replace(_read(settings, path), reloadable=True)
    _loaded = _Loaded(ring, path, signature, time.monotonic())
    return ring


def key_for_version(version: str) -> bytes | None:
    """The KEK of ``version``: from the ring in use, else from the file if it changed since."""
    known = key_encryption_keys().keys.get(version)
    loaded = _loaded
    if known is not None or loaded is None:
        return known
    return _refreshed(loaded).ring.keys.get(version)


def _refreshed(loaded: _Loaded) -> _Loaded:
    """``loaded``, or the file re-read if it changed; a broken file keeps the ring in use."""
    try:
        if _signature(loaded.path) != loaded.signature:
            reload_key_encryption_keys()
            assert _loaded is not None
            return _loaded
    except (OSError, SettingsError) as error:
        logger.error("crypto.data_keys.reload_failed", error_type=type(error).__name__)
    loaded.checked_at = time.monotonic()
    return loaded
