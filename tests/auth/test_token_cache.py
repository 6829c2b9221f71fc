"""Remembered access tokens: a token checked once is not checked again, but never outlives its expiry."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.auth import tokens as tokens_module
from backend.auth.errors import InvalidAccessToken
from backend.auth.keys import KeyRing, public_jwk
from backend.auth.tokens import CLOCK_SKEW_SECONDS, AccessClaims, AccessTokens
from backend.core.clock import utcnow

TTL_SECONDS = 300


def _tokens() -> AccessTokens:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = public_jwk(key.public_key())["kid"]
    ring = KeyRing(
        signing_key=key, signing_kid=kid, verification_keys={kid: key.public_key()}, is_development_key=True
    )
    return AccessTokens(ring, issuer="careloop-test", audience="careloop-test", ttl_seconds=TTL_SECONDS)


def _clock_at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(tokens_module, "utcnow", lambda: moment)


def _count_signature_checks(monkeypatch: pytest.MonkeyPatch, tokens: AccessTokens) -> list[str]:
    checked: list[str] = []
    check = tokens._verify_signature_and_claims

    def counted(token: str) -> AccessClaims:
        checked.append(token)
        return check(token)

    monkeypatch.setattr(tokens, "_verify_signature_and_claims", counted)
    return checked


def test_a_token_is_verified_once_then_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a valid token
    tokens = _tokens()
    checked = _count_signature_checks(monkeypatch, tokens)
    token, _ = tokens.issue(uuid.uuid4(), uuid.uuid4(), utcnow())
    # when it is presented three times
    claims = [tokens.verify(token) for _ in range(3)]
    # then the signature was checked once and every use got the same claims
    assert checked == [token]
    assert claims[0] == claims[1] == claims[2]


def test_a_token_verified_without_remembering_is_checked_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a valid token presented as a WebSocket presents it (not to be remembered)
    tokens = _tokens()
    checked = _count_signature_checks(monkeypatch, tokens)
    token, _ = tokens.issue(uuid.uuid4(), uuid.uuid4(), utcnow())
    # when it is presented twice that way
    tokens.verify(token, remember=False)
    tokens.verify(token, remember=False)
    # then it was checked both times and nothing was kept
    assert checked == [token, token] and not tokens._verified


def test_only_the_most_recently_used_tokens_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # given room for two tokens, and three valid ones of which the first is used again
    monkeypatch.setattr(tokens_module, "VERIFIED_TOKENS_CACHED", 2)
    tokens = _tokens()
    first, second, third = (tokens.issue(uuid.uuid4(), uuid.uuid4(), utcnow())[0] for _ in range(3))
    tokens.verify(first)
    tokens.verify(second)
    tokens.verify(first)
    # when the third is verified
    tokens.verify(third)
    # then the least recently used one (the second) is the one forgotten
    assert list(tokens._verified) == [first, third]


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a token verified (and remembered) while it was valid
    tokens = _tokens()
    user_id, session_id = uuid.uuid4(), uuid.uuid4()
    issued_at = utcnow()
    token, expires_at = tokens.issue(user_id, session_id, issued_at)
    assert tokens.verify(token).user_id == user_id
    # when the clock passes its expiry (plus the allowed skew)
    _clock_at(monkeypatch, expires_at + timedelta(seconds=CLOCK_SKEW_SECONDS))
    # then it is refused, though its claims are remembered
    with pytest.raises(InvalidAccessToken):
        tokens.verify(token)
    # and just before that moment it was still accepted
    _clock_at(monkeypatch, expires_at + timedelta(seconds=CLOCK_SKEW_SECONDS - 1))
    assert tokens.verify(token).session_id == session_id


def test_a_refused_token_is_not_remembered() -> None:
    # given a token whose signature was tampered with
    tokens = _tokens()
    token, _ = tokens.issue(uuid.uuid4(), uuid.uuid4(), utcnow())
    header, claims, signature = token.split(".")
    forged = f"{header}.{claims}.{signature[:-4]}AAAA"
    # when it is presented twice
    for _ in range(2):
        with pytest.raises(InvalidAccessToken):
            tokens.verify(forged)
    # then nothing was kept
    assert not tokens._verified
