"""Who may see a referral's survey: its parties (backend/referrals/access.py), which include the
receiving organization's referral managers; its link only the receiving organization's staff,
who hand it over."""

from __future__ import annotations

from backend.accounts.actor import Actor
from backend.referrals import access
from backend.referrals import records as referral_records


def may_see_survey(actor: Actor, referral: referral_records.ReferralParties) -> bool:
    return bool(access.parties(actor, referral))


def may_hand_over_link(actor: Actor, referral: referral_records.ReferralParties) -> bool:
    return actor.is_staff_of(referral.receiving_organization) and may_see_survey(actor, referral)
