"""Login throttling per account and per client address, stored in the database.

Failures inside a window are counted per key (the SHA-256 of the e-mail or the address, so the
table holds no identifiers); reaching the limit locks the key for the lockout period. A success
clears the account's counter but never the address's, so one valid account cannot launder an
attacker's address.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from backend.auth import repository
from backend.settings import LoginThrottle as ThrottleConfig


class ThrottleScope(StrEnum):
    ACCOUNT = "account"
    ADDRESS = "address"


def throttle_key(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


async def seconds_until_unlocked(keys: list[tuple[ThrottleScope, str]], now: datetime) -> int | None:
    rows = await repository.throttle_rows([(scope.value, key) for scope, key in keys])
    waits = [
        (row.locked_until - now).total_seconds()
        for row in rows
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(1, int(max(waits)) + 1) if waits else None


async def register_failure(
    scope: ThrottleScope,
    key: str,
    now: datetime,
    config: ThrottleConfig,
    *,
    is_sqlite: bool,
) -> bool:
    """Count one failure; True when this failure locked the key."""
    limit = (
        config.max_failures_per_account if scope is ThrottleScope.ACCOUNT else config.max_failures_per_address
    )
    row = await repository.lock_throttle_row(scope.value, key, now, is_sqlite=is_sqlite)
    window_open = row.window_started_at > now - timedelta(seconds=config.window_seconds)
    failures = row.failures + 1 if window_open else 1
    window_started_at = row.window_started_at if window_open else now
    locks = failures >= limit
    await repository.update_throttle(
        row.id,
        failures=0 if locks else failures,
        window_started_at=now if locks else window_started_at,
        locked_until=now + timedelta(seconds=config.lockout_seconds) if locks else row.locked_until,
    )
    return locks


async def clear(scope: ThrottleScope, key: str) -> None:
    await repository.clear_throttle(scope.value, key)
