"""Who may see a referral (SPEC §1), in one place: as a Python check and as the SQL filter.

A referral is visible to its referring provider, its receiving provider, and coordinators and
referral managers of the referring or receiving organization; the receiving side sees nothing
while it is a draft. Every provider party must still be a member of that side's organization,
so removing a membership removes access. "Not found" and "not allowed" are the same answer.
Patients and documents are reached through the same rule (see ``access_patient``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.accounts.codes import STAFF_ROLES, Role
from backend.accounts.records import Membership
from backend.db import current_unit_of_work
from backend.patients import records as patient_records
from backend.referrals import records
from backend.referrals.errors import not_found
from backend.referrals.lifecycle import Party, Status
from backend.referrals.tables import Referral

RECIPIENTS_KEY = "referrals.recipients"
PARTIES_KEY = "referrals.party_users"


def parties(actor: Actor, referral: records.ReferralParties) -> frozenset[Party]:
    found: set[Party] = set()
    if actor.is_provider_in(referral.referring_provider, referral.referring_organization):
        found.add(Party.REFERRING_PROVIDER)
    if actor.is_staff_of(referral.referring_organization):
        found.add(Party.REFERRING_STAFF)
    if referral.status != Status.DRAFT:
        if actor.is_provider_in(referral.receiving_provider, referral.receiving_organization):
            found.add(Party.RECEIVING_PROVIDER)
        if actor.is_staff_of(referral.receiving_organization):
            found.add(Party.RECEIVING_STAFF)
    return frozenset(found)


def referring_side_filter(actor: Actor) -> Any:
    clauses: list[Any] = []
    if actor.provider_ids and actor.member_organization_ids:
        clauses.append(
            Referral.referring_provider.is_in(sorted(actor.provider_ids))
            & Referral.referring_organization.is_in(actor.member_organization_ids)
        )
    if actor.staff_organization_ids:
        clauses.append(Referral.referring_organization.is_in(actor.staff_organization_ids))
    return _any(clauses)


def receiving_side_filter(actor: Actor) -> Any:
    clauses: list[Any] = []
    if actor.provider_ids and actor.member_organization_ids:
        clauses.append(
            Referral.receiving_provider.is_in(sorted(actor.provider_ids))
            & Referral.receiving_organization.is_in(actor.member_organization_ids)
        )
    if actor.staff_organization_ids:
        clauses.append(Referral.receiving_organization.is_in(actor.staff_organization_ids))
    combined = _any(clauses)
    if combined is None:
        return None
    return combined & (Referral.status != Status.DRAFT.value)


def visible_filter(actor: Actor) -> Any:
    """The SQL form of :func:`parties` being non-empty; None when the caller sees nothing."""
    return _any([c for c in (referring_side_filter(actor), receiving_side_filter(actor)) if c is not None])


def _any(clauses: list[Any]) -> Any:
    if not clauses:
        return None
    combined = clauses[0]
    for clause in clauses[1:]:
        combined = combined | clause
    return combined


async def recipients_at_version(referral: records.Referral) -> list[UUID]:
    """Every active user :func:`parties` would grant access to this referral (its events'
    recipients), computed once per unit of work and referral version: one change can raise a
    status, an appointment and a document event, each heard by the stream and push."""
    cache: dict[tuple[UUID, int], list[UUID]] = current_unit_of_work().extensions.setdefault(
        RECIPIENTS_KEY, {}
    )
    key = (referral.id, referral.version)
    found = cache.get(key)
    if found is None:
        parties_read = await party_users(referral)
        found = cache[key] = _users_from(
            {referral.id: _sides(referral)}, parties_read.memberships, parties_read.provider_users
        )[referral.id]
    return found


@dataclass(frozen=True, slots=True)
class PartyUsers:
    """Who is behind a referral's parties at its version: the active memberships of both its
    organizations, and the user of each of its providers."""

    memberships: list[Membership]
    provider_users: dict[UUID, UUID]


async def party_users(referral: records.Referral) -> PartyUsers:
    """Read once per unit of work and referral version (one statement): the recipients of its
    events and the audience of its automated steps both come from it."""
    cache: dict[tuple[UUID, int], PartyUsers] = current_unit_of_work().extensions.setdefault(PARTIES_KEY, {})
    key = (referral.id, referral.version)
    found = cache.get(key)
    if found is None:
        organizations = sorted({referral.referring_organization, referral.receiving_organization}, key=str)
        provider_ids = sorted(
            {p for p in (referral.referring_provider, referral.receiving_provider) if p is not None}, key=str
        )
        memberships, provider_users = await accounts.memberships_and_provider_users(
            organizations, provider_ids
        )
        found = cache[key] = PartyUsers(memberships=memberships, provider_users=provider_users)
    return found


def _sides(referral: records.ReferralParties) -> list[tuple[UUID | None, UUID]]:
    sides: list[tuple[UUID | None, UUID]] = [(referral.referring_provider, referral.referring_organization)]
    if referral.status != Status.DRAFT:
        sides.append((referral.receiving_provider, referral.receiving_organization))
    return sides


async def receiving_side(referral: records.Referral) -> tuple[list[UUID], UUID | None]:
    """Who may see the referral from its receiving side (the receiving provider and the
    receiving organization's staff), and the user who decides it (its receiving provider's)."""
    parties_read = await party_users(referral)
    sides = {referral.id: [(referral.receiving_provider, referral.receiving_organization)]}
    users = _users_from(sides, parties_read.memberships, parties_read.provider_users)[referral.id]
    provider = referral.receiving_provider
    return users, parties_read.provider_users.get(provider) if provider else None


async def recipients_of(referrals: Sequence[records.ReferralParties]) -> dict[UUID, list[UUID]]:
    """Each referral's recipients (see :func:`recipients_at_version`) in one statement."""
    return await _users_of_sides({referral.id: _sides(referral) for referral in referrals})


async def _users_of_sides(sides_of: dict[UUID, list[tuple[UUID | None, UUID]]]) -> dict[UUID, list[UUID]]:
    """Each referral's users from its (provider, organization) sides: the organizations' staff,
    and each provider's user while they are a member of that side's organization."""
    all_sides = [side for sides in sides_of.values() for side in sides]
    memberships, providers = await accounts.memberships_and_provider_users(
        sorted({org for _, org in all_sides}, key=str),
        sorted({p for p, _ in all_sides if p is not None}, key=str),
    )
    return _users_from(sides_of, memberships, providers)


def _users_from(
    sides_of: dict[UUID, list[tuple[UUID | None, UUID]]],
    memberships: Sequence[Membership],
    providers: dict[UUID, UUID],
) -> dict[UUID, list[UUID]]:
    members = {(m.user, m.organization) for m in memberships}
    staff: dict[UUID, set[UUID]] = {}
    for m in memberships:
        if Role(m.role) in STAFF_ROLES:
            staff.setdefault(m.organization, set()).add(m.user)
    found: dict[UUID, list[UUID]] = {}
    for referral_id, sides in sides_of.items():
        users: set[UUID] = set()
        for provider_id, organization_id in sides:
            users |= staff.get(organization_id, set())
            provider_user = providers.get(provider_id) if provider_id else None
            if provider_user is not None and (provider_user, organization_id) in members:
                users.add(provider_user)
        found[referral_id] = sorted(users, key=str)
    return found


async def access_referral(actor: Actor, referral_id: UUID) -> tuple[records.Referral, frozenset[Party]]:
    from backend.referrals import repository

    referral = await repository.referral_by_id(referral_id)
    if referral is None:
        raise not_found()
    found = parties(actor, referral)
    if not found:
        raise not_found()
    return referral, found


async def access_patient(actor: Actor, patient: patient_records.Patient | None) -> patient_records.Patient:
    """Staff of the patient's own organization, and parties of a referral for the patient."""
    from backend.referrals import repository

    if patient is None:
        raise not_found()
    if actor.is_member(patient.organization):
        return patient
    if await repository.any_visible_referral_for_patient(patient.id, visible_filter(actor)):
        return patient
    raise not_found()


def organization_queue_filter(actor: Actor, organization_id: UUID | None) -> Any:
    """Everything sent to an organization, for its coordinators and referral managers."""
    if organization_id is None or not actor.is_staff_of(organization_id):
        return None
    return (Referral.receiving_organization == organization_id) & (Referral.status != Status.DRAFT.value)
