"""Signing keys for access tokens: ES256 (P-256), identified by their RFC 7638 thumbprint.

Production reads ``JWT_PRIVATE_KEY_FILE`` (and, during a rotation, older public keys from
``JWT_EXTRA_PUBLIC_KEYS_FILE``). Development generates one key into ``var/`` once, marked
so that production refuses to start with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from backend.settings import Settings, SettingsError

ALGORITHM = "ES256"
DEV_KEY_MARKER = "CARELOOP DEVELOPMENT KEY - NEVER USE IN PRODUCTION"
DEV_KEY_FILENAME = "jwt-dev-signing-key.pem"

logger = logging.getLogger(__name__)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public_key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public_key.public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode())
    return {**jwk, "kid": _b64(thumbprint.digest()), "use": "sig", "alg": ALGORITHM}


@dataclass(frozen=True, slots=True)
class KeyRing:
    signing_key: ec.EllipticCurvePrivateKey
    signing_kid: str
    verification_keys: dict[str, ec.EllipticCurvePublicKey]
    is_development_key: bool

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [public_jwk(key) for key in self.verification_keys.values()]}


def _load_private_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    start = pem.find(b"-----BEGIN")
    key = serialization.load_pem_private_key(pem[start:], password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SettingsError("the JWT signing key must be an EC P-256 private key (ES256)")
    return key


def _load_public_keys(pem: bytes) -> list[ec.EllipticCurvePublicKey]:
    keys = []
    for block in pem.split(b"-----END PUBLIC KEY-----"):
        start = block.find(b"-----BEGIN PUBLIC KEY-----")
        if start < 0:
            continue
        key = serialization.load_pem_public_key(block[start:] + b"-----END PUBLIC KEY-----\n")
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SettingsError("JWT_EXTRA_PUBLIC_KEYS_FILE must hold EC P-256 public keys")
        keys.append(key)
    return keys


def _development_key(var_dir: Path) -> bytes:
    path = var_dir / DEV_KEY_FILENAME
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(f"# {DEV_KEY_MARKER}\n".encode() + pem)
        path.chmod(0o600)
        logger.warning("generated a development JWT signing key at %s", path)
    return path.read_bytes()


def load_key_ring(settings: Settings) -> KeyRing:
    if settings.jwt_private_key_file is not None:
        pem = settings.jwt_private_key_file.read_bytes()
    elif settings.is_prod:
        raise SettingsError("JWT_PRIVATE_KEY_FILE is required in production")
    else:
        logger.warning("JWT_PRIVATE_KEY_FILE is not set: using the development signing key")
        pem = _development_key(settings.var_dir)
    is_development_key = DEV_KEY_MARKER.encode() in pem
    if settings.is_prod and is_development_key:
        raise SettingsError("refusing to start in production with the development JWT key")
    signing_key = _load_private_key(pem)
    signing_kid = public_jwk(signing_key.public_key())["kid"]
    verification: dict[str, Any] = {signing_kid: signing_key.public_key()}
    if settings.jwt_extra_public_keys_file is not None:
        for key in _load_public_keys(settings.jwt_extra_public_keys_file.read_bytes()):
            verification[public_jwk(key)["kid"]] = key
    return KeyRing(signing_key, signing_kid, verification, is_development_key)
