"""Automation's reactions: a referral change rewrites its pending steps (backend/automation/planner.py)."""

from __future__ import annotations

from backend.automation import planner
from backend.core.events import Phase, Subscribers
from backend.referrals.events import ReferralChanged


def subscribe(subscribers: Subscribers) -> None:
    subscribers.subscribe(ReferralChanged, planner.referral_changed, phase=Phase.IN_TRANSACTION)
