"""The key that signs links sent outside the app (the patient survey), and signing with it.

``SURVEY_LINK_KEY_FILE`` holds at least 32 random bytes (base64 or raw; generate one with
``python -c "import secrets; print(secrets.token_urlsafe(48))"``). It is a secret of its own,
not derived from the data-encryption keys: rotating those (``keys rotate``) must not kill every
link already e-mailed. Required in production (refused at first use without it); in development
and tests a key is generated once under ``CARELOOP_VAR_DIR`` (``survey-link-key.dev``).

    sign(purpose, *parts)   HMAC-SHA256(key, "purpose|part|part…"), base64url without padding
    verify(signature, …)    the same, compared in constant time
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from backend.logging import get_logger
from backend.settings import SettingsError, get_settings

logger = get_logger(__name__)
MIN_KEY_BYTES = 32


@lru_cache(maxsize=1)
def link_key() -> bytes:
    settings = get_settings()
    path = settings.survey.link_key_file
    if path is None:
        if settings.is_prod:
            raise SettingsError("SURVEY_LINK_KEY_FILE is required in production (the survey links' key)")
        path = settings.var_dir / "survey-link-key.dev"
        if not path.exists():
            settings.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
            logger.warning("generated a development survey link key at %s", path)
    key = path.read_bytes().strip()
    if len(key) < MIN_KEY_BYTES:
        raise SettingsError(f"SURVEY_LINK_KEY_FILE {path}: at least {MIN_KEY_BYTES} bytes of key")
    return hashlib.sha256(b"careloop-link-key|" + key).digest()


def sign(purpose: str, *parts: str) -> str:
    message = "|".join((purpose, *parts)).encode()
    digest = hmac.new(link_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
