"""Who may see a referral (SPEC §1), in one place: as a Python check and as the SQL filter.

A referral is visible to its referring provider, its receiving provider, and coordinators and
referral managers of the referring or receiving organization; the receiving side sees nothing
while it is a draft. Every provider party must still be a member of that side's organization,
so removing a membership removes access. "Not found" and "not allowed" are the same answer.
Patients and documents are reached through the same rule (see ``access_patient``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend.accounts import repository as accounts
from backend.accounts.codes import Role
from backend.accounts.principal import Principal
from backend.referrals.errors import not_found
from backend.referrals.lifecycle import Party, Status
from backend.referrals.tables import Referral

STAFF_ROLES = frozenset({Role.COORDINATOR, Role.REFERRAL_MANAGER})
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller with what access depends on: their provider entries and staff organizations."""

    principal: Principal
    provider_ids: frozenset[UUID]

    @property
    def user_id(self) -> UUID:
        return self.principal.user_id

    @property
    def member_organization_ids(self) -> list[UUID]:
        return [org for org, roles in self.principal.roles_by_organization.items() if roles]

    @property
    def staff_organization_ids(self) -> list[UUID]:
        return [org for org, roles in self.principal.roles_by_organization.items() if roles & STAFF_ROLES]

    def is_staff_of(self, organization_id: UUID) -> bool:
        return bool(self.principal.roles_by_organization.get(organization_id, frozenset()) & STAFF_ROLES)

    def is_provider_in(self, provider_id: UUID | None, organization_id: UUID) -> bool:
        return provider_id in self.provider_ids and self.principal.is_member(organization_id)


async def viewer_for(principal: Principal) -> Viewer:
    rows = await accounts.providers_of_users([principal.user_id])
    return Viewer(principal=principal, provider_ids=frozenset(row["id"] for row in rows))


def parties(viewer: Viewer, referral: Row) -> frozenset[Party]:
    found: set[Party] = set()
    if viewer.is_provider_in(referral["referring_provider"], referral["referring_organization"]):
        found.add(Party.REFERRING_PROVIDER)
    if viewer.is_staff_of(referral["referring_organization"]):
        found.add(Party.REFERRING_STAFF)
    if referral["status"] != Status.DRAFT:
        if viewer.is_provider_in(referral["receiving_provider"], referral["receiving_organization"]):
            found.add(Party.RECEIVING_PROVIDER)
        if viewer.is_staff_of(referral["receiving_organization"]):
            found.add(Party.RECEIVING_STAFF)
    return frozenset(found)


def referring_side_filter(viewer: Viewer) -> Any:
    clauses: list[Any] = []
    if viewer.provider_ids and viewer.member_organization_ids:
        clauses.append(
            Referral.referring_provider.is_in(sorted(viewer.provider_ids))
            & Referral.referring_organization.is_in(viewer.member_organization_ids)
        )
    if viewer.staff_organization_ids:
        clauses.append(Referral.referring_organization.is_in(viewer.staff_organization_ids))
    return _any(clauses)


def receiving_side_filter(viewer: Viewer) -> Any:
    clauses: list[Any] = []
    if viewer.provider_ids and viewer.member_organization_ids:
        clauses.append(
            Referral.receiving_provider.is_in(sorted(viewer.provider_ids))
            & Referral.receiving_organization.is_in(viewer.member_organization_ids)
        )
    if viewer.staff_organization_ids:
        clauses.append(Referral.receiving_organization.is_in(viewer.staff_organization_ids))
    combined = _any(clauses)
    if combined is None:
        return None
    return combined & (Referral.status != Status.DRAFT.value)


def visible_filter(viewer: Viewer) -> Any:
    """The SQL form of :func:`parties` being non-empty; None when the caller sees nothing."""
    return _any([c for c in (referring_side_filter(viewer), receiving_side_filter(viewer)) if c is not None])


def _any(clauses: list[Any]) -> Any:
    if not clauses:
        return None
    combined = clauses[0]
    for clause in clauses[1:]:
        combined = combined | clause
    return combined


async def recipients(referral: Row) -> list[UUID]:
    """Every active user :func:`parties` would grant access to this referral (for its events)."""
    return (await recipients_of([referral]))[referral["id"]]


async def recipients_of(referrals: list[Row]) -> dict[Any, list[UUID]]:
    """:func:`recipients` for many referrals in two statements."""
    sides_of = {}
    for referral in referrals:
        sides = [(referral["referring_provider"], referral["referring_organization"])]
        if referral["status"] != Status.DRAFT:
            sides.append((referral["receiving_provider"], referral["receiving_organization"]))
        sides_of[referral["id"]] = sides
    all_sides = [side for sides in sides_of.values() for side in sides]
    memberships = await accounts.active_memberships_in(sorted({org for _, org in all_sides}, key=str))
    providers = {
        row["id"]: row["user"]
        for row in await accounts.providers_by_ids(
            sorted({p for p, _ in all_sides if p is not None}, key=str)
        )
        if row["user"] is not None
    }
    members = {(m["user"], m["organization"]) for m in memberships}
    staff: dict[UUID, set[UUID]] = {}
    for m in memberships:
        if Role(m["role"]) in STAFF_ROLES:
            staff.setdefault(m["organization"], set()).add(m["user"])
    found: dict[Any, list[UUID]] = {}
    for referral_id, sides in sides_of.items():
        users: set[UUID] = set()
        for provider_id, organization_id in sides:
            users |= staff.get(organization_id, set())
            provider_user = providers.get(provider_id) if provider_id else None
            if provider_user is not None and (provider_user, organization_id) in members:
                users.add(provider_user)
        found[referral_id] = sorted(users, key=str)
    return found


async def access_referral(viewer: Viewer, referral_id: UUID) -> tuple[Row, frozenset[Party]]:
    from backend.referrals import repository

    referral = await repository.referral_by_id(referral_id)
    if referral is None:
        raise not_found()
    found = parties(viewer, referral)
    if not found:
        raise not_found()
    return referral, found


async def access_patient(viewer: Viewer, patient: Row | None) -> Row:
    """Staff of the patient's own organization, and parties of a referral for the patient."""
    from backend.referrals import repository

    if patient is None:
        raise not_found()
    if viewer.principal.is_member(patient["organization"]):
        return patient
    if await repository.any_visible_referral_for_patient(patient["id"], visible_filter(viewer)):
        return patient
    raise not_found()


def organization_queue_filter(viewer: Viewer, organization_id: UUID | None) -> Any:
    """Everything sent to an organization, for its coordinators and referral managers."""
    if organization_id is None or not viewer.is_staff_of(organization_id):
        return None
    return (Referral.receiving_organization == organization_id) & (Referral.status != Status.DRAFT.value)
