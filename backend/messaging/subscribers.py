"""Messaging's reactions to other domains' events: every referral has its conversation from
the moment it is created (its parties join as they may see the referral; see access.py).

    ReferralChanged (created) ──► ensure_referral_conversation, in the same transaction
"""

from __future__ import annotations

from backend.core.events import Phase, Subscribers
from backend.messaging import repository
from backend.referrals.events import ReferralChanged


async def referral_created(change: ReferralChanged) -> None:
    if change.before is None:
        await repository.ensure_referral_conversation(change.after.id, None, change.occurred_at)


def subscribe(subscribers: Subscribers) -> None:
    subscribers.subscribe(ReferralChanged, referral_created, phase=Phase.IN_TRANSACTION)
