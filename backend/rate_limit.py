"""HTTP requests per client address per minute, in constant time per request.

    request ──► RateLimitMiddleware: probe path? pass ──► client address ──► limiter.hit(address)
        admitted: the app · refused: 429 with Retry-After and the request-level error body

A sliding-window counter: this minute's count plus the previous minute's, weighted by how much
of the previous minute still lies within the last 60 seconds. It needs two counters per address,
whatever the limit; Litestar's own middleware kept every timestamp of the window and re-encoded
the list on each request (a cost that grew with the limit), and the ``limits`` package's memory
storage scans every address on each request to expire old ones. Counts live in the worker's
memory, so a host admits up to (workers times the limit) per address (infra/PRODUCTION.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.graphql.network import Network, client_address

RATE_LIMITED = "RATE_LIMITED"
_TOO_MANY_REQUESTS = msgspec.json.encode(
    {"errors": [{"message": "Too many requests: retry later.", "extensions": {"code": RATE_LIMITED}}]}
)


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window_seconds`` per key, estimated from two fixed windows."""

    __slots__ = ("_clock", "_counts", "_limit", "_pruned_window", "_window")

    def __init__(
        self, limit: int, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._counts: dict[str, tuple[int, int, int]] = {}  # key → (window, its count, previous count)
        self._pruned_window = -1

    def hit(self, key: str) -> int | None:
        """Count one hit for ``key``: None when admitted, else the seconds to wait (≥ 1); a
        refused hit is not counted."""
        now = self._clock()
        window = int(now // self._window)
        if window != self._pruned_window:
            self._prune(window)
        found = self._counts.get(key)
        if found is None or found[0] < window - 1:
            current, previous = 0, 0
        elif found[0] == window - 1:
            current, previous = 0, found[1]
        else:
            current, previous = found[1], found[2]
        elapsed = now - window * self._window
        if previous * (1 - elapsed / self._window) + current + 1 > self._limit:
            return self._retry_after(current, previous, elapsed)
        self._counts[key] = (window, current + 1, previous)
        return None

    @property
    def tracked_keys(self) -> int:
        return len(self._counts)

    def _retry_after(self, current: int, previous: int, elapsed: float) -> int:
        """Seconds until one more hit fits (the window's own hits stay; the previous fade)."""
        room = self._limit - 1 - current
        if room >= 0:  # room once enough of the previous window has slid out
            wait = self._window * (1 - room / previous) - elapsed
        else:  # only in the next window, once enough of this one has slid out
            wait = self._window - elapsed + self._window * (1 - (self._limit - 1) / current)
        return max(1, math.ceil(round(wait, 6)))  # 60 * (1 - 0.7) is 18.000000000000004

    def _prune(self, window: int) -> None:
        """Forget keys with no hit in this window or the previous one (once per window)."""
        self._counts = {key: found for key, found in self._counts.items() if found[0] >= window - 1}
        self._pruned_window = window


class RateLimitMiddleware:
    """ASGI middleware counting each HTTP request against its client address."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: SlidingWindowLimiter,
        trusted_proxies: Sequence[Network],
        exclude_paths: Collection[str],
    ) -> None:
        self.app = app
        self._limiter = limiter
        self._proxies = trusted_proxies
        self._exclude = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] in self._exclude:
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        wait = self._limiter.hit(client_address(connection, self._proxies))
        if wait is None:
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_TOO_MANY_REQUESTS)).encode()),
                    (b"retry-after", str(wait).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _TOO_MANY_REQUESTS, "more_body": False})
