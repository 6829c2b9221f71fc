"""Settings refuse configurations we will not run with."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.auth.keys import DEV_KEY_FILENAME, load_key_ring
from backend.settings import SettingsError, load_settings

POSTGRES = "postgresql://careloop@db.internal/careloop"


def test_production_requires_a_signing_key_and_postgres(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="JWT_PRIVATE_KEY_FILE"):
        load_settings({"CARELOOP_ENV": "prod", "DATABASE_URL": POSTGRES})
    with pytest.raises(SettingsError, match="PostgreSQL"):
        load_settings({"CARELOOP_ENV": "prod", "JWT_PRIVATE_KEY_FILE": str(tmp_path / "k.pem")})


def test_production_refuses_the_development_key(tmp_path: Path) -> None:
    dev = load_settings({"CARELOOP_ENV": "dev", "CARELOOP_VAR_DIR": str(tmp_path)})
    assert load_key_ring(dev).is_development_key
    prod = load_settings(
        {
            "CARELOOP_ENV": "prod",
            "DATABASE_URL": POSTGRES,
            "JWT_PRIVATE_KEY_FILE": str(tmp_path / DEV_KEY_FILENAME),
        }
    )
    with pytest.raises(SettingsError, match="development JWT key"):
        load_key_ring(prod)


def test_production_accepts_a_real_key(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key_file = tmp_path / "signing.pem"
    key_file.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    prod = load_settings(
        {"CARELOOP_ENV": "prod", "DATABASE_URL": POSTGRES, "JWT_PRIVATE_KEY_FILE": str(key_file)}
    )
    ring = load_key_ring(prod)
    assert not ring.is_development_key
    assert list(ring.verification_keys) == [ring.signing_kid]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ACCESS_TOKEN_TTL_SECONDS", "3600", "must not exceed 900"),
        ("GRAPHQL_MAX_DEPTH", "deep", "must be an integer"),
        ("CARELOOP_ENV", "staging", "one of dev, test, prod"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("TRUSTED_PROXIES", "not-an-ip", "TRUSTED_PROXIES"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
    ],
)
def test_invalid_values_are_refused_with_a_clear_message(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings({variable: value})


def test_production_refuses_missing_or_development_data_keys(tmp_path: Path) -> None:
    from backend.crypto.keys import load_key_encryption_keys

    dev = load_settings({"CARELOOP_ENV": "dev", "CARELOOP_VAR_DIR": str(tmp_path)})
    assert load_key_encryption_keys(dev).is_development
    base = {"CARELOOP_ENV": "prod", "DATABASE_URL": POSTGRES, "JWT_PRIVATE_KEY_FILE": str(tmp_path / "k.pem")}
    with pytest.raises(SettingsError, match="DATA_KEYS_FILE is required"):
        load_key_encryption_keys(load_settings(base))
    development_file = str(tmp_path / "data-keys.dev.json")
    with pytest.raises(SettingsError, match="development data keys"):
        load_key_encryption_keys(load_settings({**base, "DATA_KEYS_FILE": development_file}))
