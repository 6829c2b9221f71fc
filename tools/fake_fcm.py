"""A local fake of Firebase Cloud Messaging (HTTP v1) and of Google's OAuth token endpoint.

No FCM emulator exists, so tests and developers point the real ``firebase-admin`` library here:

    firebase-admin ──(service account's token_uri)──► POST /token
        JWT-bearer grant ──► {"access_token": "fake-…", "expires_in": 3600, "token_type": "Bearer"}
    firebase-admin ──(messaging service URL)──► POST /v1/projects/{project}/messages:send
        Authorization: Bearer fake-… ──► per-token script │ prefix rule │ random rate │ success
        ──► {"name": "projects/{project}/messages/fake-N"} or an error in FCM v1's exact shape
    tests / developers ──► /_fake/… (JSON control API) or the ``FakeFcm`` Python object

Delivery semantics: a send counts as *delivered* only when its 200 answer was written to a client
that was still connected. That models "FCM accepted the message" as "the sender got the 200":
a client that gave up during a scripted delay (timeout, cancellation) leaves the send recorded as
``aborted``; it was received but nobody learnt it was accepted, exactly the case where a real
sender must retry and FCM may deliver twice. (The check is made when the answer is written; a
client vanishing in the same instant is not detectable by any server.) ``validate_only`` sends
that succeed are ``validated``, never delivered; error answers are ``rejected``.

Scripting (same JSON through ``/_fake/…`` and the Python API). A *response* is one of
``{"ok": true}``, ``{"delay_ms": 500}`` (success after a delay), ``{"error": CODE}`` with
optional ``"retry_after": SECONDS`` and ``"delay_ms": MS``; CODE is one of ``FCM_ERRORS``
(UNREGISTERED, INVALID_ARGUMENT, QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, SENDER_ID_MISMATCH,
THIRD_PARTY_AUTH_ERROR). QUOTA_EXCEEDED carries ``Retry-After: 1`` unless told otherwise
(``"retry_after": null`` omits it). A send's answer is chosen in this order:

1. the token's queue (``POST /_fake/script {"token": "…", "responses": [...]}``), one per send;
2. the first matching prefix rule (``POST /_fake/prefix {"prefix": "dead-", "error": "UNREGISTERED"}``);
3. random failure rates (``POST /_fake/rates {"rates": {"QUOTA_EXCEEDED": 0.01}, "retry_after": 1,
   "seed": 7}``), for benchmarks;
4. success, after the default delay (``POST /_fake/delay {"delay_ms": 20}``; a scripted
   ``delay_ms`` wins).

Token endpoint failures: ``POST /_fake/token-failures {"count": 2, "status": 400}`` makes the next
two token requests fail (400 ``{"error": "invalid_grant"}``; 500 ``{"error": "internal_failure"}``,
which google-auth itself retries for seconds, so fast tests use 400). ``POST /_fake/revoke-tokens``
forgets issued tokens (the next send gets 401 and firebase-admin refreshes). Reading:
``GET /_fake/received[?token=…]``, ``GET /_fake/tokens``, ``GET /_fake/stats``,
``GET /_fake/health``; ``POST /_fake/reset`` clears scripts, rules, rates, delay and records
(issued tokens and known keys stay valid). Records are kept in memory: for long benchmarks pass
``record_limit`` (``--record-limit``) to keep only the last N; ``stats`` still counts every send.
It speaks HTTP/1.1 only (firebase-admin asks for HTTP/2 but falls back over plain http), so
concurrent sends use one connection each instead of FCM's multiplexed streams.

Why a thread: google-auth refreshes the OAuth token with blocking ``requests`` calls from inside
firebase-admin's async auth flow, so a fake serving on the caller's event loop could never answer
that call. ``FakeFcm.start()`` therefore runs uvicorn on its own loop in a daemon thread; every
method of ``FakeFcm`` is safe to call from the test's loop.

Developers: ``python -m tools.fake_fcm --port 8099`` (``make fake-fcm``) serves in the
foreground, writes a service-account file whose ``token_uri`` is the fake, and prints the
``FCM_SERVICE_ACCOUNT_FILE`` / ``FCM_SEND_URL`` values for the backend.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import secrets
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

Scope = MutableMapping[str, Any]
AsgiMessage = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[AsgiMessage]]
Send = Callable[[AsgiMessage], Awaitable[None]]

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-auth always signs the assertion for this audience, whatever the token_uri.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
SEND_PATH_PREFIX = "/v1/projects/"
SEND_PATH_SUFFIX = "/messages:send"
DEFAULT_PROJECT_ID = "careloop-fake"
DEFAULT_CLI_PORT = 8099


@dataclass(frozen=True, slots=True)
class FcmErrorKind:
    """How FCM v1 answers one error code: HTTP status, google.rpc status, message."""

    http_status: int
    status: str
    message: str
    default_retry_after: int | None = None


FCM_ERRORS: dict[str, FcmErrorKind] = {
    "UNREGISTERED": FcmErrorKind(404, "NOT_FOUND", "Requested entity was not found."),
    "INVALID_ARGUMENT": FcmErrorKind(
        400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token"
    ),
    "QUOTA_EXCEEDED": FcmErrorKind(
        429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", default_retry_after=1
    ),
    "UNAVAILABLE": FcmErrorKind(503, "UNAVAILABLE", "The service is currently unavailable."),
    "INTERNAL": FcmErrorKind(500, "INTERNAL", "Internal error encountered."),
    "SENDER_ID_MISMATCH": FcmErrorKind(403, "PERMISSION_DENIED", "SenderId mismatch"),
    "THIRD_PARTY_AUTH_ERROR": FcmErrorKind(
        401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service"
    ),
}


def fcm_error_body(code: str, message: str | None = None) -> dict[str, Any]:
    """The JSON body FCM v1 answers for ``code`` (``{"error": {code, message, status, details}}``)."""
    kind = FCM_ERRORS[code]
    details: list[dict[str, Any]] = [{"@type": FCM_ERROR_TYPE, "errorCode": code}]
    if code == "INVALID_ARGUMENT" and message is None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}],
            }
        )
    return {
        "error": {
            "code": kind.http_status,
            "message": message or kind.message,
            "status": kind.status,
            "details": details,
        }
    }


def _unauthenticated_body(message: str) -> dict[str, Any]:
    return {"error": {"code": 401, "message": message, "status": "UNAUTHENTICATED"}}


@dataclass(frozen=True, slots=True)
class ScriptedResponse:
    """One scripted answer to a send: success or an FCM error, after an optional delay."""

    error: str | None = None
    retry_after: int | None = None
    delay_ms: int | None = None

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> ScriptedResponse:
        """Read ``{"ok": true}``, ``{"delay_ms": N}`` or ``{"error": CODE, "retry_after"?, "delay_ms"?}``."""
        if not isinstance(spec, Mapping):
            raise ValueError(f"a response must be a JSON object, got {spec!r}")
        unknown = set(spec) - {"ok", "error", "retry_after", "delay_ms"}
        if unknown:
            raise ValueError(f"unknown response fields: {sorted(unknown)}")
        error = spec.get("error")
        if error is not None and error not in FCM_ERRORS:
            raise ValueError(f"unknown error {error!r}; known: {sorted(FCM_ERRORS)}")
        if error is not None and "ok" in spec:
            raise ValueError("a response is either ok or an error")
        if "ok" in spec and spec["ok"] is not True:
            raise ValueError('"ok" can only be true')
        if error is None and "retry_after" in spec:
            raise ValueError("retry_after only goes with an error")
        delay_ms = _optional_int(spec, "delay_ms")
        retry_after = _optional_int(spec, "retry_after")
        if error is not None and "retry_after" not in spec:
            retry_after = FCM_ERRORS[error].default_retry_after
        return cls(error=error, retry_after=retry_after, delay_ms=delay_ms)

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"ok": True} if self.error is None else {"error": self.error}
        if self.retry_after is not None:
            payload["retry_after"] = self.retry_after
        if self.delay_ms is not None:
            payload["delay_ms"] = self.delay_ms
        return payload


OK = ScriptedResponse()


def _optional_int(spec: Mapping[str, Any], key: str) -> int | None:
    value = spec.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer, got {value!r}")
    return value


@dataclass(slots=True)
class ReceivedSend:
    """One request to the send endpoint and what became of it.

    ``outcome``: ``pending`` (in flight), ``delivered`` (200 written to a connected client),
    ``validated`` (same, for ``validate_only``), ``rejected`` (error answer written) or
    ``aborted`` (the client left before the answer was written). ``connection``: the client's
    address and port, which tells sends on one kept-alive connection from sends on new ones.
    """

    seq: int
    project_id: str
    token: str | None
    body: Any
    validate_only: bool
    received_at: float
    connection: str | None = None
    response: str = "ok"
    status: int = 200
    name: str | None = None
    retry_after: int | None = None
    delay_ms: int = 0
    finished_at: float | None = None
    written: bool = False
    outcome: str = "pending"

    @property
    def message(self) -> Any:
        return self.body.get("message") if isinstance(self.body, dict) else None

    @property
    def delivered(self) -> bool:
        return self.outcome == "delivered"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    client_email: str | None
    scope: str | None
    issued_at: float
    expires_at: float


@dataclass(slots=True)
class _TokenFailure:
    status: int
    body: dict[str, Any]


@dataclass(slots=True)
class FakeFcmState:
    """Everything the fake knows: scripts, rules, issued tokens, received sends.

    Shared between the server's thread and the caller's: every access holds ``lock`` (never
    across an ``await``).
    """

    token_lifetime_s: int = 3600
    default_delay_ms: int = 0
    record_limit: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    scripts: dict[str, deque[ScriptedResponse]] = field(default_factory=dict)
    prefix_rules: list[tuple[str, ScriptedResponse]] = field(default_factory=list)
    rates: list[tuple[str, float]] = field(default_factory=list)
    rates_retry_after: int | None = None
    rng: random.Random = field(default_factory=random.Random)
    token_failures: deque[_TokenFailure] = field(default_factory=deque)
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    public_keys: dict[str, rsa.RSAPublicKey] = field(default_factory=dict)
    records: deque[ReceivedSend] = field(default_factory=deque)
    token_requests: int = 0
    sends: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    responses: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.records = deque(maxlen=self.record_limit)

    # scripting -------------------------------------------------------------------------------

    def script(self, token: str, responses: Iterable[Mapping[str, Any]]) -> int:
        parsed = [ScriptedResponse.parse(spec) for spec in responses]
        if not isinstance(token, str) or not token:
            raise ValueError("token must be a non-empty string")
        with self.lock:
            queue = self.scripts.setdefault(token, deque())
            queue.extend(parsed)
            return len(queue)

    def add_prefix_rule(self, prefix: str, response: Mapping[str, Any]) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("prefix must be a non-empty string")
        parsed = ScriptedResponse.parse(response)
        with self.lock:
            self.prefix_rules.append((prefix, parsed))

    def set_delay(self, delay_ms: int) -> None:
        checked = _optional_int({"delay_ms": delay_ms}, "delay_ms")
        with self.lock:
            self.default_delay_ms = checked or 0

    def set_rates(self, rates: Mapping[str, float], *, retry_after: int | None, seed: int | None) -> None:
        checked: list[tuple[str, float]] = []
        for code, rate in rates.items():
            if code not in FCM_ERRORS:
                raise ValueError(f"unknown error {code!r}; known: {sorted(FCM_ERRORS)}")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"rate for {code} must be within [0, 1], got {rate!r}")
            checked.append((code, float(rate)))
        if sum(rate for _, rate in checked) > 1:
            raise ValueError("rates add up to more than 1")
        checked_retry_after = _optional_int({"retry_after": retry_after}, "retry_after")
        with self.lock:
            self.rates = checked
            self.rates_retry_after = checked_retry_after
            # Benchmarks want reproducible failures, not secure ones.
            self.rng = random.Random(seed)  # noqa: S311

    def fail_token_requests(self, count: int, *, status: int = 400, error: str | None = None) -> None:
        if count < 0 or status < 400 or status > 599:
            raise ValueError("count must be >= 0 and status a 4xx/5xx code")
        code = error or ("invalid_grant" if status < 500 else "internal_failure")
        body = {"error": code, "error_description": f"scripted token failure ({code})"}
        with self.lock:
            self.token_failures.extend(_TokenFailure(status, body) for _ in range(count))

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def reset(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.prefix_rules.clear()
            self.rates = []
            self.rates_retry_after = None
            self.default_delay_ms = 0
            self.token_failures.clear()
            self.records.clear()
            self.token_requests = 0
            self.sends = 0
            self.outcomes.clear()
            self.responses.clear()

    # reading ---------------------------------------------------------------------------------

    def received(self, token: str | None = None) -> list[ReceivedSend]:
        with self.lock:
            return [dataclasses.replace(r) for r in self.records if token is None or r.token == token]

    def issued_tokens(self) -> list[IssuedToken]:
        with self.lock:
            return list(self.tokens.values())

    def stats(self) -> dict[str, Any]:
        with self.lock:
            finished = sum(self.outcomes.values())
            return {
                "received": self.sends,
                "pending": self.sends - finished,
                "outcomes": dict(self.outcomes),
                "responses": dict(self.responses),
                "token_requests": self.token_requests,
                "tokens_valid": len(self.tokens),
            }

    # serving ---------------------------------------------------------------------------------

    def choose(self, token: str | None) -> ScriptedResponse:
        """The answer for a send to ``token``: queue, then prefix rule, then random rate, then ok."""
        with self.lock:
            if token is not None:
                queue = self.scripts.get(token)
                if queue:
                    return queue.popleft()
                for prefix, response in self.prefix_rules:
                    if token.startswith(prefix):
                        return response
            if self.rates:
                draw = self.rng.random()
                for code, rate in self.rates:
                    if draw < rate:
                        return ScriptedResponse(code, self.rates_retry_after, None)
                    draw -= rate
            return OK

    def issue_token(self, client_email: str | None, scope: str | None) -> IssuedToken:
        now = time.time()
        token = IssuedToken(
            access_token=f"fake-{secrets.token_urlsafe(24)}",
            client_email=client_email,
            scope=scope,
            issued_at=now,
            expires_at=now + self.token_lifetime_s,
        )
        with self.lock:
            self.tokens[token.access_token] = token
        return token

    def token_is_valid(self, access_token: str) -> bool:
        with self.lock:
            issued = self.tokens.get(access_token)
        return issued is not None and issued.expires_at > time.time()

    def record(
        self, project_id: str, token: str | None, body: Any, validate_only: bool, connection: str | None
    ) -> ReceivedSend:
        with self.lock:
            self.sends += 1
            record = ReceivedSend(
                seq=self.sends,
                project_id=project_id,
                token=token,
                body=body,
                validate_only=validate_only,
                received_at=time.time(),
                connection=connection,
            )
            self.records.append(record)
            return record

    def finish(self, record: ReceivedSend, *, written: bool) -> None:
        with self.lock:
            record.finished_at = time.time()
            record.written = written
            if not written:
                record.outcome = "aborted"
            elif record.response != "ok":
                record.outcome = "rejected"
            else:
                record.outcome = "validated" if record.validate_only else "delivered"
            self.outcomes[record.outcome] += 1
            self.responses[record.response] += 1


# -- the ASGI app -------------------------------------------------------------------------------


class FakeFcmApp:
    """Raw ASGI app (no framework: it must see the client's disconnect during a delay)."""

    def __init__(self, state: FakeFcmState) -> None:
        self.state = state
        self._control: dict[tuple[str, str], Callable[[Any, Mapping[str, list[str]]], Any]] = {
            ("GET", "/_fake/health"): lambda _body, _query: {"status": "ok"},
            ("GET", "/_fake/received"): self._get_received,
            ("GET", "/_fake/tokens"): lambda _body, _query: [
                dataclasses.asdict(token) for token in state.issued_tokens()
            ],
            ("GET", "/_fake/stats"): lambda _body, _query: state.stats(),
            ("POST", "/_fake/script"): self._post_script,
            ("POST", "/_fake/prefix"): self._post_prefix,
            ("POST", "/_fake/delay"): self._post_delay,
            ("POST", "/_fake/rates"): self._post_rates,
            ("POST", "/_fake/token-failures"): self._post_token_failures,
            ("POST", "/_fake/revoke-tokens"): lambda _body, _query: state.revoke_tokens(),
            ("POST", "/_fake/reset"): lambda _body, _query: state.reset(),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method: str = scope["method"]
        path: str = scope["path"]
        body = await _read_body(receive)
        if body is None:  # the client left while sending its request
            return
        if path == "/token" and method == "POST":
            await self._token(scope, body, send)
        elif path.startswith(SEND_PATH_PREFIX) and path.endswith(SEND_PATH_SUFFIX) and method == "POST":
            project_id = path[len(SEND_PATH_PREFIX) : -len(SEND_PATH_SUFFIX)]
            await self._send_message(scope, project_id, body, receive, send)
        elif (method, path) in self._control:
            await self._control_call(scope, (method, path), body, send)
        else:
            error = {
                "error": {"code": 404, "message": f"No route for {method} {path}", "status": "NOT_FOUND"}
            }
            await _write_json(send, 404, error)

    # OAuth token endpoint --------------------------------------------------------------------

    async def _token(self, scope: Scope, body: bytes, send: Send) -> None:
        state = self.state
        with state.lock:
            state.token_requests += 1
            failure = state.token_failures.popleft() if state.token_failures else None
        if failure is not None:
            await _write_json(send, failure.status, failure.body)
            return
        form = _parse_form(scope, body)
        if form.get("grant_type") != JWT_BEARER_GRANT:
            await _write_json(
                send, 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
            )
            return
        claims = self._verify_assertion(form.get("assertion", ""))
        if claims is None:
            await _write_json(
                send, 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            )
            return
        issued = state.issue_token(_str_or_none(claims.get("iss")), _str_or_none(claims.get("scope")))
        await _write_json(
            send,
            200,
            {
                "access_token": issued.access_token,
                "expires_in": state.token_lifetime_s,
                "token_type": "Bearer",
            },
        )

    def _verify_assertion(self, assertion: str) -> dict[str, Any] | None:
        """The assertion's claims; its signature is checked when the issuer's key is known."""
        try:
            claims: dict[str, Any] = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        if not isinstance(claims.get("iss"), str):
            return None
        with self.state.lock:
            public_key = self.state.public_keys.get(claims["iss"])
        if public_key is not None:
            try:
                jwt.decode(
                    assertion, public_key, algorithms=["RS256"], audience=GOOGLE_TOKEN_AUDIENCE, leeway=30
                )
            except jwt.PyJWTError:
                return None
        return claims

    # FCM send endpoint -----------------------------------------------------------------------

    async def _send_message(
        self, scope: Scope, project_id: str, raw: bytes, receive: Receive, send: Send
    ) -> None:
        state = self.state
        body, problem = _parse_send_body(raw)
        message = body.get("message") if isinstance(body, dict) else None
        token = _target_token(message)
        validate_only = isinstance(body, dict) and body.get("validate_only") is True
        client = scope.get("client")
        connection = f"{client[0]}:{client[1]}" if client else None
        record = state.record(project_id, token, body, validate_only, connection)

        access_token = _bearer(scope)
        if access_token is None or not state.token_is_valid(access_token):
            with state.lock:
                record.response, record.status = "UNAUTHENTICATED", 401
            text = (
                "Request is missing required authentication credential. Expected OAuth 2 access token."
                if access_token is None
                else "Request had invalid authentication credentials. Expected OAuth 2 access token."
            )
            headers = [
                (b"www-authenticate", b'Bearer realm="https://accounts.google.com/", error="invalid_token"')
            ]
            await _write_json(send, 401, _unauthenticated_body(text), headers)
            state.finish(record, written=True)
            return

        chosen = ScriptedResponse("INVALID_ARGUMENT") if problem else state.choose(token)
        delay_ms = chosen.delay_ms if chosen.delay_ms is not None else state.default_delay_ms
        with state.lock:
            record.delay_ms = delay_ms
            record.retry_after = chosen.retry_after
            if chosen.error is not None:
                record.response = chosen.error
                record.status = FCM_ERRORS[chosen.error].http_status
            else:
                record.name = f"projects/{project_id}/messages/fake-{record.seq}"
        if delay_ms and not await _wait_unless_disconnected(receive, delay_ms / 1000):
            state.finish(record, written=False)
            return

        if chosen.error is None:
            await _write_json(send, 200, {"name": record.name})
        else:
            headers = []
            if chosen.retry_after is not None:
                headers.append((b"retry-after", str(chosen.retry_after).encode()))
            await _write_json(send, record.status, fcm_error_body(chosen.error, problem), headers)
        state.finish(record, written=True)

    # control API -----------------------------------------------------------------------------

    async def _control_call(self, scope: Scope, route: tuple[str, str], raw: bytes, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode())
        try:
            payload = json.loads(raw) if raw.strip() else {}
            result = self._control[route](payload, query)
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            await _write_json(send, 400, {"error": str(error)})
            return
        await _write_json(send, 200, {"ok": True} if result is None else result)

    def _get_received(self, _body: Any, query: Mapping[str, list[str]]) -> list[dict[str, Any]]:
        token = query.get("token", [None])[0]
        return [record.to_json() for record in self.state.received(token)]

    def _post_script(self, body: Any, _query: Mapping[str, list[str]]) -> dict[str, Any]:
        queued = self.state.script(body["token"], body["responses"])
        return {"token": body["token"], "queued": queued}

    def _post_prefix(self, body: Any, _query: Mapping[str, list[str]]) -> None:
        self.state.add_prefix_rule(body["prefix"], {k: v for k, v in body.items() if k != "prefix"})

    def _post_delay(self, body: Any, _query: Mapping[str, list[str]]) -> None:
        self.state.set_delay(body["delay_ms"])

    def _post_rates(self, body: Any, _query: Mapping[str, list[str]]) -> None:
        self.state.set_rates(body["rates"], retry_after=body.get("retry_after"), seed=body.get("seed"))

    def _post_token_failures(self, body: Any, _query: Mapping[str, list[str]]) -> None:
        self.state.fail_token_requests(body["count"], status=body.get("status", 400), error=body.get("error"))


async def _read_body(receive: Receive) -> bytes | None:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _wait_unless_disconnected(receive: Receive, seconds: float) -> bool:
    """Sleep ``seconds``; False as soon as the client disconnects (uvicorn's ``receive`` then
    answers ``http.disconnect``), True if it is still there at the end."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.ensure_future(disconnected())
    done, _ = await asyncio.wait({watcher}, timeout=seconds)
    if watcher in done:
        return False
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher
    return True


async def _write_json(
    send: Send, status: int, payload: Any, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=UTF-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, credential = value.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credential.strip() or None


def _parse_form(scope: Scope, body: bytes) -> dict[str, str]:
    if (_header(scope, b"content-type") or "").startswith("application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in document.items()} if isinstance(document, dict) else {}
    return {key: values[0] for key, values in parse_qs(body.decode("latin-1")).items()}


def _parse_send_body(raw: bytes) -> tuple[Any, str | None]:
    """The decoded body and, when FCM would reject it as malformed, why."""
    try:
        body = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace"), "Invalid JSON payload received."
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        return body, "Invalid JSON payload received. Missing message."
    if "validate_only" in body and not isinstance(body["validate_only"], bool):
        return body, "Invalid value at 'validate_only' (TYPE_BOOL)."
    targets = [key for key in ("token", "fid", "topic", "condition") if key in body["message"]]
    if len(targets) != 1:
        return body, "Exactly one of token, fid, topic or condition must be specified."
    return body, None


def _target_token(message: Any) -> str | None:
    if not isinstance(message, dict):
        return None
    value = message.get("token", message.get("fid"))
    return value if isinstance(value, str) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# -- service account ----------------------------------------------------------------------------


def fake_service_account(
    *, token_uri: str, project_id: str = DEFAULT_PROJECT_ID, private_key: rsa.RSAPrivateKey | None = None
) -> dict[str, str]:
    """A service-account document ``firebase_admin.credentials.Certificate`` accepts, with a fresh
    RSA key (or ``private_key``) and ``token_uri`` pointing at the fake."""
    key = private_key or rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"fake-fcm@{project_id}.iam.gserviceaccount.com",
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "universe_domain": "googleapis.com",
    }


def write_service_account(path: Path, document: Mapping[str, str]) -> Path:
    """Write ``document`` to ``path`` (mode 0600: it holds a private key, fake or not)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(document, file, indent=2)
    return path


def _public_key_of(document: Mapping[str, str]) -> rsa.RSAPublicKey:
    key = serialization.load_pem_private_key(document["private_key"].encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the service account's private key is not an RSA key")
    return key.public_key()


# -- the Python API -----------------------------------------------------------------------------


class FakeFcm:
    """The fake served by uvicorn on a free loopback port, in its own thread and event loop.

    ``await fake.start()`` … ``await fake.stop()`` (or ``async with FakeFcm() as fake``).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        project_id: str = DEFAULT_PROJECT_ID,
        token_lifetime_s: int = 3600,
        default_delay_ms: int = 0,
        record_limit: int | None = None,
    ) -> None:
        self.host = host
        self.project_id = project_id
        self.state = FakeFcmState(
            token_lifetime_s=token_lifetime_s, default_delay_ms=default_delay_ms, record_limit=record_limit
        )
        self.app = FakeFcmApp(self.state)
        self._requested_port = port
        self._port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    # lifecycle -------------------------------------------------------------------------------

    def _bind(self) -> socket.socket:
        """A listening socket: connections queue from here on, before uvicorn serves.

        ``IPPROTO_TCP`` explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose
        protocol says TCP; with ``proto=0`` every answer (headers, then body) waits ~40 ms for
        the client's delayed ACK.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        sock.listen(2048)
        self._port = sock.getsockname()[1]
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )

    async def start(self) -> None:
        """Bind a free port and serve from a daemon thread; returns once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("FakeFcm already started")
        sock = self._bind()
        server = uvicorn.Server(self._config())
        self._server = server

        def serve() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as error:
                self._failure = error
            finally:
                sock.close()

        self._thread = threading.Thread(target=serve, name=f"fake-fcm-{self._port}", daemon=True)
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the FCM fake did not start") from self._failure
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving (in-flight sends get up to a second) and wait for the thread."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        await asyncio.to_thread(self._thread.join, 5)
        self._server = None
        self._thread = None

    async def __aenter__(self) -> FakeFcm:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # addresses -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeFcm is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        """The service account's ``token_uri``."""
        return f"{self.url}/token"

    @property
    def send_url_template(self) -> str:
        """What firebase-admin's ``_MessagingService.FCM_URL`` holds: ``{0}`` is the project id."""
        return f"{self.url}{SEND_PATH_PREFIX}{{0}}{SEND_PATH_SUFFIX}"

    def send_url(self, project_id: str | None = None) -> str:
        return self.send_url_template.format(project_id or self.project_id)

    # service account -------------------------------------------------------------------------

    def service_account(self, *, project_id: str | None = None) -> dict[str, str]:
        """A fresh service-account document for this fake; its key is registered, so the
        fake checks the signature of the assertions made with it."""
        document = fake_service_account(token_uri=self.token_uri, project_id=project_id or self.project_id)
        self.register_service_account(document)
        return document

    def write_service_account(self, path: Path, *, project_id: str | None = None) -> Path:
        return write_service_account(path, self.service_account(project_id=project_id))

    def register_service_account(self, document: Mapping[str, str]) -> None:
        with self.state.lock:
            self.state.public_keys[document["client_email"]] = _public_key_of(document)

    # scripting -------------------------------------------------------------------------------

    def script(self, token: str, *responses: Mapping[str, Any]) -> int:
        """Queue answers for the next sends to ``token``; returns the queue's length."""
        return self.state.script(token, responses)

    def script_prefix(self, prefix: str, response: Mapping[str, Any]) -> None:
        """Every send to a token starting with ``prefix`` gets ``response`` (after its queue)."""
        self.state.add_prefix_rule(prefix, response)

    def set_delay(self, delay_ms: int) -> None:
        self.state.set_delay(delay_ms)

    def set_rates(
        self, rates: Mapping[str, float], *, retry_after: int | None = None, seed: int | None = None
    ) -> None:
        self.state.set_rates(rates, retry_after=retry_after, seed=seed)

    def fail_token_requests(self, count: int = 1, *, status: int = 400, error: str | None = None) -> None:
        self.state.fail_token_requests(count, status=status, error=error)

    def revoke_tokens(self) -> None:
        self.state.revoke_tokens()

    def reset(self) -> None:
        self.state.reset()

    # reading ---------------------------------------------------------------------------------

    def received(self, token: str | None = None) -> list[ReceivedSend]:
        return self.state.received(token)

    def delivered(self, token: str | None = None) -> list[ReceivedSend]:
        return [record for record in self.state.received(token) if record.delivered]

    def issued_tokens(self) -> list[IssuedToken]:
        return self.state.issued_tokens()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()


# -- CLI ----------------------------------------------------------------------------------------


def _load_or_create_account(path: Path, fake: FakeFcm) -> dict[str, str]:
    """Reuse the key of an earlier run's file (a running backend keeps working), else a new one."""
    key: rsa.RSAPrivateKey | None = None
    if path.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            loaded = serialization.load_pem_private_key(
                json.loads(path.read_text())["private_key"].encode(), password=None
            )
            key = loaded if isinstance(loaded, rsa.RSAPrivateKey) else None
    document = fake_service_account(token_uri=fake.token_uri, project_id=fake.project_id, private_key=key)
    fake.register_service_account(document)
    write_service_account(path, document)
    return document


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.fake_fcm",
        description="Local fake of FCM v1 and Google's OAuth token endpoint.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_CLI_PORT)
    parser.add_argument("--project-id", default=DEFAULT_PROJECT_ID)
    parser.add_argument("--delay-ms", type=int, default=0, help="default delay before each answer")
    parser.add_argument("--record-limit", type=int, default=None, help="keep only the last N sends")
    parser.add_argument("--service-account-out", type=Path, default=Path("var/fake-fcm-service-account.json"))
    args = parser.parse_args(argv)
    fake = FakeFcm(
        host=args.host,
        port=args.port,
        project_id=args.project_id,
        default_delay_ms=args.delay_ms,
        record_limit=args.record_limit,
    )
    sock = fake._bind()  # the port is known (and taken) before the file and the banner are written
    _load_or_create_account(args.service_account_out, fake)
    url = fake.url
    print(
        f"FCM fake on {url} (project {fake.project_id})\n"
        f"  token_uri          {fake.token_uri}\n"
        f"  send URL template  {fake.send_url_template}\n"
        "Run the backend with:\n"
        f"  FCM_SERVICE_ACCOUNT_FILE={args.service_account_out}\n"
        f"  FCM_SEND_URL={fake.send_url_template}\n"
        "Script it, e.g.:\n"
        f"""  curl -s {url}/_fake/prefix -d '{{"prefix": "dead-", "error": "UNREGISTERED"}}'\n"""
        f"""  curl -s {url}/_fake/script -d '{{"token": "T", "responses": [{{"error": "QUOTA_EXCEEDED", """
        """"retry_after": 2}, {"ok": true}]}'\n"""
        f"  curl -s {url}/_fake/received",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(fake._config()).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
