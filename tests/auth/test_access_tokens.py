"""Every known JWT attack is rejected: the API answers UNAUTHENTICATED as if no token was sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


class TokenForge:
    """Builds tokens like ours, then breaks one property at a time."""

    def __init__(self, server: LiveServer, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
        settings = server.container.settings
        self.keys = server.container.keys
        self.claims: dict[str, Any] = {
            "iss": settings.jwt_issuer,
            "aud": settings.jwt_audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": str(uuid.uuid4()),
            "iat": int(time.time()),
            "exp": int(time.time()) + 300,
        }
        self.header = {"kid": self.keys.signing_kid, "typ": "at+jwt"}

    def sign(
        self,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        key: Any = None,
    ) -> str:
        return jwt.encode(
            claims if claims is not None else self.claims,
            key or self.keys.signing_key,
            algorithm="ES256",
            headers=header if header is not None else self.header,
        )

    def without(self, claim: str) -> str:
        return self.sign({k: v for k, v in self.claims.items() if k != claim})

    def with_claims(self, **changes: Any) -> str:
        return self.sign({**self.claims, **changes})


@pytest.fixture
async def forge(api: Api, factory: Factory, live_server: LiveServer) -> TokenForge:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    claims = jwt.decode(tokens.access, options={"verify_signature": False})
    forge = TokenForge(live_server, user.id, uuid.UUID(claims["sid"]))
    assert await api.me_status(forge.sign()) == "ok", "the untampered forge token must be accepted"
    return forge


async def test_alg_none_is_rejected(api: Api, forge: TokenForge) -> None:
    token = _unsigned({"alg": "none", "typ": "at+jwt", "kid": forge.header["kid"]}, forge.claims) + "."
    assert await api.me_status(token) == "UNAUTHENTICATED"


async def test_hs256_signed_with_the_public_key_is_rejected(api: Api, forge: TokenForge) -> None:
    public_pem = forge.keys.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = _unsigned({"alg": "HS256", "typ": "at+jwt", "kid": forge.header["kid"]}, forge.claims)
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert await api.me_status(f"{signing_input}.{_b64(signature)}") == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("aud", "some-other-api"),
        ("iss", "https://attacker.example"),
        ("exp", int(time.time()) - 3600),
    ],
)
async def test_wrong_audience_issuer_or_expired_is_rejected(
    api: Api, forge: TokenForge, claim: str, value: Any
) -> None:
    assert await api.me_status(forge.with_claims(**{claim: value})) == "UNAUTHENTICATED"


@pytest.mark.parametrize("claim", ["exp", "sub", "iat", "jti", "iss", "aud", "sid"])
async def test_missing_required_claim_is_rejected(api: Api, forge: TokenForge, claim: str) -> None:
    assert await api.me_status(forge.without(claim)) == "UNAUTHENTICATED"


async def test_unknown_kid_is_rejected(api: Api, forge: TokenForge) -> None:
    assert await api.me_status(forge.sign(header={**forge.header, "kid": "not-our-key"})) == "UNAUTHENTICATED"


async def test_token_signed_by_another_key_with_our_kid_is_rejected(api: Api, forge: TokenForge) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1())
    assert await api.me_status(forge.sign(key=stranger)) == "UNAUTHENTICATED"


async def test_token_without_access_token_type_is_rejected(api: Api, forge: TokenForge) -> None:
    assert await api.me_status(forge.sign(header={"kid": forge.header["kid"]})) == "UNAUTHENTICATED"


async def test_refresh_token_used_as_access_token_is_rejected(api: Api, factory: Factory) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    assert await api.me_status(tokens.refresh) == "UNAUTHENTICATED"


async def test_tampered_payload_is_rejected(api: Api, forge: TokenForge, factory: Factory) -> None:
    other = await factory.user()
    header, _, signature = forge.sign().split(".")
    forged_payload = _b64(json.dumps({**forge.claims, "sub": str(other.id)}).encode())
    assert await api.me_status(f"{header}.{forged_payload}.{signature}") == "UNAUTHENTICATED"


async def test_no_token_is_unauthenticated_and_jwks_publishes_the_signing_key(
    api: Api, live_server: LiveServer
) -> None:
    body = await api.gql("{ me { id } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["data"] is None

    jwks = (await api.http.get("/.well-known/jwks.json")).json()
    assert [key["kid"] for key in jwks["keys"]] == [live_server.container.keys.signing_kid]
    assert {key["alg"] for key in jwks["keys"]} == {"ES256"}
    assert all("d" not in key for key in jwks["keys"]), "no private key material"
