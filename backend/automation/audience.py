"""Who a rung tells, for one referral: the users behind an Audience code, from the same read of
the referral's parties its events' recipients come from (backend/referrals/access.py)."""

from __future__ import annotations

from uuid import UUID

from backend.accounts.codes import Role
from backend.protocols.codes import Audience
from backend.referrals import access
from backend.referrals.records import Referral


async def users_of(referral: Referral, audience: Audience) -> list[UUID]:
    """Active users only; a provider is told while they are a member of that side's organization.
    A queue referral has no receiving provider: its reminders go to the receiving coordinators."""
    if audience in (Audience.NOBODY, Audience.PATIENT):
        return []
    if audience == Audience.RECEIVING_PROVIDER and referral.receiving_provider is None:
        audience = Audience.RECEIVING_COORDINATORS
    parties = await access.party_users(referral)
    if audience in (Audience.RECEIVING_PROVIDER, Audience.REFERRING_PROVIDER):
        receiving = audience == Audience.RECEIVING_PROVIDER
        provider_id = referral.receiving_provider if receiving else referral.referring_provider
        organization_id = referral.receiving_organization if receiving else referral.referring_organization
        user_id = parties.provider_users.get(provider_id) if provider_id else None
        if user_id is None:
            return []
        member = any(m.user == user_id and m.organization == organization_id for m in parties.memberships)
        return [user_id] if member else []
    organization_id = (
        referral.referring_organization
        if audience == Audience.REFERRING_COORDINATORS
        else referral.receiving_organization
    )
    role = Role.REFERRAL_MANAGER if audience == Audience.RECEIVING_MANAGERS else Role.COORDINATOR
    return sorted(
        {m.user for m in parties.memberships if m.organization == organization_id and Role(m.role) == role},
        key=str,
    )
