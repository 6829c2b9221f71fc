"""Access tokens: short-lived ES256 JWTs (RFC 9068 ``at+jwt``) with a pinned algorithm.

Verification accepts only ES256, only keys of our key ring (by ``kid``), and requires
``iss``, ``aud``, ``exp``, ``iat``, ``sub``, ``jti`` and ``sid`` (the session). Anything else,
including an opaque refresh token presented as a bearer token, is rejected.

An ES256 signature check costs about as much CPU as the rest of a small request, and a client
sends the same token with every request until it refreshes. Tokens that passed over HTTP are
therefore remembered (exactly those bytes, at most ``VERIFIED_TOKENS_CACHED``, least recently
used first out); a remembered token still has its expiry checked on every use. A WebSocket
presents its token once, so it is verified without being remembered (memory per idle socket is a
measured figure, see bench-realtime). Failures are never remembered. Whether the session behind
a token is still live is not the token's business: authentication reads it every time.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from backend.auth.errors import InvalidAccessToken
from backend.auth.keys import ALGORITHM, KeyRing
from backend.core.clock import utcnow

ACCESS_TOKEN_TYPE = "at+jwt"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "sub", "jti", "sid"]
CLOCK_SKEW_SECONDS = 10
VERIFIED_TOKENS_CACHED = 4096


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


class AccessTokens:
    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    def issue(self, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> tuple[str, datetime]:
        expires_at = now + timedelta(seconds=self.ttl_seconds)
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": str(uuid.uuid4()),
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        headers = {"kid": self._keys.signing_kid, "typ": ACCESS_TOKEN_TYPE}
        token = jwt.encode(claims, self._keys.signing_key, algorithm=ALGORITHM, headers=headers)
        return token, expires_at

    def verify(self, token: str, *, remember: bool = True) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_signature_and_claims(token)
            if remember:
                self._verified[token] = claims
                if len(self._verified) > VERIFIED_TOKENS_CACHED:
                    self._verified.popitem(last=False)
        else:
            self._verified.move_to_end(token)
        if claims.expires_at + timedelta(seconds=CLOCK_SKEW_SECONDS) <= utcnow():
            self._verified.pop(token, None)
            raise InvalidAccessToken("expired")
        return claims

    def _verify_signature_and_claims(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidAccessToken("malformed") from error
        if header.get("alg") != ALGORITHM or header.get("typ") != ACCESS_TOKEN_TYPE:
            raise InvalidAccessToken("unexpected header")
        key = self._keys.verification_keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidAccessToken("unknown kid")
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                session_id=uuid.UUID(claims["sid"]),
                expires_at=datetime.fromtimestamp(claims["exp"], UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise InvalidAccessToken(type(error).__name__) from error
