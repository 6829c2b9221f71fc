"""Sending to FCM: the real ``firebase-admin`` library, or a logging sender in development.

    FcmSender.send(batch) ──► one firebase_admin Message per outbox row (built from the FCM v1
        message of backend/push/payloads.py) ──► send_each_async per message, at most
        ``concurrency`` in flight ──► one Outcome per row: SENT, RETRY (with Retry-After when FCM
        gave one), or FAILED (UNREGISTERED, INVALID_ARGUMENT, …), classified per FCM's contract

The dispatcher owns retries: the library's own retry of 500/503 is turned off. Configuration:
``FCM_SERVICE_ACCOUNT_FILE`` (its ``token_uri`` is the OAuth endpoint) and, for the local fake
only, ``FCM_SEND_URL`` (the one place the library's private send URL is overridden).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import urllib.request
import uuid
import warnings
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx

from backend.logging import get_logger
from backend.push.codes import FailReason
from backend.push.payloads import fcm_message

logger = get_logger(__name__)
# Idle keep-alive connections close after this long: below uvicorn's 5 s (the local fake), so a
# send never goes out on a connection the server is closing; FCM's own idle timeout is far longer.
KEEPALIVE_SECONDS = 4.0


class Verdict(StrEnum):
    SENT = "SENT"
    RETRY = "RETRY"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row to send: its stored notification, the device's token and locale."""

    row_id: uuid.UUID
    token: str
    locale: str
    notification: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    verdict: Verdict
    reason: str | None = None
    retry_after: float | None = None
    name: str | None = None


class Sender(Protocol):
    def send(self, deliveries: list[Delivery]) -> AsyncIterator[tuple[Delivery, Outcome]]:
        """Each delivery with its outcome, as soon as FCM answers it."""
        ...

    async def close(self) -> None: ...


class LoggingSender:
    """Development without credentials: logs what would be sent (type and ids only)."""

    async def send(self, deliveries: list[Delivery]) -> AsyncIterator[tuple[Delivery, Outcome]]:
        for delivery in deliveries:
            logger.info("push.would_send", type=delivery.notification["type"], row_id=str(delivery.row_id))
            yield delivery, Outcome(Verdict.SENT, name="logged")

    async def close(self) -> None:
        return None


class FcmSender:
    def __init__(self, service_account_file: Path, *, concurrency: int, send_url: str | None = None) -> None:
        import firebase_admin
        from firebase_admin import credentials, messaging

        document = json.loads(service_account_file.read_text())
        self._app = firebase_admin.initialize_app(
            credentials.Certificate(document),
            {"projectId": document["project_id"]},
            name=f"careloop-push-{uuid.uuid4()}",
        )
        self._service = messaging._get_messaging_service(self._app)
        if send_url is not None:
            self._service._fcm_url = send_url.format(document["project_id"])
        _replace_library_client(self._service, connections=concurrency)
        self._semaphore = asyncio.Semaphore(concurrency)

    async def send(self, deliveries: list[Delivery]) -> AsyncIterator[tuple[Delivery, Outcome]]:
        for finished in asyncio.as_completed([self._send_one(d) for d in deliveries]):
            yield await finished

    async def _send_one(self, delivery: Delivery) -> tuple[Delivery, Outcome]:
        return delivery, await self._outcome(delivery)

    async def _outcome(self, delivery: Delivery) -> Outcome:
        message = _firebase_message(
            fcm_message(
                delivery.notification,
                token=delivery.token,
                locale=delivery.locale,
                now_epoch=int(time.time()),
                push_id=str(delivery.row_id),
            )
        )
        async with self._semaphore:
            try:
                batch = await self._service.send_each_async([message], dry_run=False)
            except Exception as error:  # token endpoint or transport trouble: retry later
                return _retry_for(error)
        response = batch.responses[0]
        if response.success:
            return Outcome(Verdict.SENT, name=response.message_id)
        return classify(response.exception)

    async def close(self) -> None:
        """Close the HTTP client on this loop, then let firebase-admin forget the app (its own
        cleanup calls ``asyncio.run``, so it runs in a thread, finding the client closed)."""
        import firebase_admin

        await self._service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self._app)


def classify(error: Exception | None) -> Outcome:
    """FCM's error contract: which failures end a row, which are retried (and when)."""
    from firebase_admin import exceptions, messaging

    if isinstance(error, messaging.UnregisteredError):
        return Outcome(Verdict.FAILED, FailReason.UNREGISTERED.value)
    if isinstance(error, messaging.SenderIdMismatchError):
        return Outcome(Verdict.FAILED, FailReason.SENDER_ID_MISMATCH.value)
    if isinstance(error, messaging.ThirdPartyAuthError):
        return Outcome(Verdict.FAILED, FailReason.THIRD_PARTY_AUTH.value)
    if isinstance(error, exceptions.InvalidArgumentError):
        return Outcome(Verdict.FAILED, FailReason.INVALID_ARGUMENT.value)
    return _retry_for(error)


def _retry_for(error: Exception | None) -> Outcome:
    reason = type(error).__name__ if error is not None else "Unknown"
    return Outcome(Verdict.RETRY, reason[:32], retry_after=_retry_after(error))


def _retry_after(error: Exception | None) -> float | None:
    response = getattr(error, "http_response", None)
    headers = getattr(response, "headers", None)
    value = headers.get("retry-after") if headers is not None else None
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _replace_library_client(service: Any, *, connections: int) -> None:
    """The library's async client, rebuilt: no retries of its own, our auth flow, aiohttp's pool.

    - Retries: the dispatcher retries with its own persisted schedule; the library must not hold
      a request for seconds retrying 500/503 by itself.
    - Auth: ``BearerFromCredential`` (below) instead of the library's per-request flow.
    - Transport: httpx's API (what firebase-admin calls) over aiohttp's connection pool
      (httpx-aiohttp), up to ``connections`` keep-alive HTTP/1.1 connections, one per send in
      flight, reused. httpx's own pool costs more than the sends: kept idle, httpcore checks every
      idle connection's socket on each request (4-5 ms of CPU per push with 100 idle); not kept,
      every send opens and closes a connection (about half the dispatcher's CPU at 100 in flight;
      see bench/README.md, bench-push). aiohttp reuses its pool at no per-request cost.
    - Proxy: the environment's, for the service's send URL (``proxy_for``), for hospitals that reach Google
      through one; the token endpoint's requests honour the environment by themselves.
    """
    import aiohttp
    from firebase_admin import _http_client
    from firebase_admin._retry import HttpxRetry
    from httpx_aiohttp import AiohttpTransport

    def session() -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=KEEPALIVE_SECONDS)
        return aiohttp.ClientSession(connector=connector)

    client = _http_client.HttpxAsyncClient(
        credential=service._credential,
        timeout=service._async_client._timeout,
        retry_config=HttpxRetry(max_retries=0),
    )
    transport = AiohttpTransport(client=session, proxy=proxy_for(service._fcm_url))
    client._async_client = httpx.AsyncClient(
        timeout=client.timeout,
        headers=client._headers,
        auth=BearerFromCredential(service._credential),
        mounts={"http://": transport, "https://": transport},
    )
    service._async_client = client


def proxy_for(url: str) -> httpx.Proxy | None:
    """The environment's proxy for ``url`` (HTTPS_PROXY or HTTP_PROXY by scheme, NO_PROXY
    honoured), read once: aiohttp's ``trust_env`` reads the environment and ~/.netrc again on
    every request (0.4 ms of CPU per push in bench-push)."""
    parts = urllib.parse.urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    return httpx.Proxy(proxy) if proxy else None


class BearerFromCredential(httpx.Auth):
    """The library's auth flow, without its per-request cost and without blocking the loop.

    firebase-admin's flow asks google-auth to apply the credential on every request (building a
    ``requests`` session each time) and refreshes the OAuth token with blocking ``requests``
    calls on the event loop, stalling every other send meanwhile. This one keeps the token
    google-auth holds, refreshes it in a thread (one refresh at a time) when google-auth says it
    is no longer valid (expired or about to), and, like the library, refreshes and resends on a
    401 at most twice. Token-endpoint failures propagate as google-auth raises them."""

    MAX_REFRESHES_ON_401 = 2

    def __init__(self, credential: Any) -> None:
        from google.auth.transport import requests as google_requests

        self._credential = credential
        self._token_request = google_requests.Request()
        self._refreshing = asyncio.Lock()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._token(stale=None)
        for refreshes in range(self.MAX_REFRESHES_ON_401 + 1):
            request.headers["authorization"] = f"Bearer {token}"
            response = yield request
            if response.status_code != httpx.codes.UNAUTHORIZED or refreshes == self.MAX_REFRESHES_ON_401:
                return
            token = await self._token(stale=token)

    async def _token(self, *, stale: str | None) -> str:
        """A valid token; ``stale`` is one the server refused, refreshed unless already replaced."""
        credential = self._credential
        if credential.valid and credential.token != stale:
            return str(credential.token)
        async with self._refreshing:
            if not credential.valid or credential.token == stale:
                await asyncio.to_thread(credential.refresh, self._token_request)
            return str(credential.token)


def _firebase_message(body: dict[str, Any]) -> Any:
    from firebase_admin import messaging

    android = body["android"]
    android_notification = android["notification"]
    aps = body["apns"]["payload"]["aps"]
    custom = {"interruption-level": aps["interruption-level"]} if "interruption-level" in aps else None
    # Apps register FCM registration tokens, which the v1 API takes as `token`; the library's
    # suggested `fid` is a Firebase installation id, a different thing.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Message.token is deprecated", DeprecationWarning)
        return _message(messaging, body, android, android_notification, aps, custom)


def _message(  # noqa: PLR0917 - the parts of one FCM message
    messaging: Any,
    body: dict[str, Any],
    android: dict[str, Any],
    android_notification: dict[str, Any],
    aps: dict[str, Any],
    custom: dict[str, Any] | None,
) -> Any:
    return messaging.Message(
        token=body["token"],
        data=body["data"],
        notification=messaging.Notification(title=body["notification"]["title"]),
        android=messaging.AndroidConfig(
            priority=android["priority"],
            ttl=timedelta(seconds=int(android["ttl"].rstrip("s"))),
            collapse_key=android.get("collapse_key"),
            notification=messaging.AndroidNotification(
                title=android_notification["title"],
                channel_id=android_notification["channel_id"],
                click_action=android_notification.get("click_action"),
                notification_count=android_notification.get("notification_count"),
            ),
        ),
        apns=messaging.APNSConfig(
            headers=body["apns"]["headers"],
            payload=messaging.APNSPayload(
                aps=messaging.Aps(
                    alert=messaging.ApsAlert(title=aps["alert"]["title"]),
                    badge=aps.get("badge"),
                    sound=aps.get("sound"),
                    category=aps.get("category"),
                    custom_data=custom,
                )
            ),
        ),
    )
