"""The referral expiry job: referrals whose validity window passed with no visit become EXPIRED.

Each instance runs it every REFERRAL_EXPIRY_INTERVAL_MS; ``python -m backend referrals expire``
runs one pass from cron. Several instances at once are safe: a referral changes by a
version-checked UPDATE, so each expires (and is announced and pushed) once.
"""

from __future__ import annotations

import secrets

from backend.audit.service import AuditTrail
from backend.core.clock import utcnow
from backend.core.periodic import in_batches, run_every
from backend.core.request import RequestMeta
from backend.db import Database, UnitOfWork
from backend.referrals.service import expire_overdue

EXPIRY_BATCH = 500


async def expire_once(database: Database) -> int:
    """Expire every referral past its window, one batch per transaction; returns how many."""

    async def batch(uow: UnitOfWork) -> int:
        meta = RequestMeta(client_address="system", request_id=f"expire-{secrets.token_hex(6)}")
        return await expire_overdue(AuditTrail(uow, meta), now=utcnow(), limit=EXPIRY_BATCH)

    return await in_batches(database, EXPIRY_BATCH, batch)


async def expire_forever(database: Database, interval_seconds: float) -> None:
    await run_every(
        interval_seconds,
        lambda: expire_once(database),
        done="referrals.expired",
        failed="referrals.expiry_failed",
    )
