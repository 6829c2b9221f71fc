"""Every account query: organizations, users, memberships, specialties, providers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Protocol
from uuid import UUID

from backend.accounts import records
from backend.accounts.codes import Role
from backend.accounts.tables import (
    Invitation,
    Membership,
    Organization,
    Provider,
    ProviderSpecialty,
    Specialty,
    User,
)
from backend.db import fetch, placeholders, select_columns


async def organization_by_id(organization_id: UUID) -> records.Organization | None:
    row = await Organization.select().where(Organization.id == organization_id).first()
    return records.Organization(**row) if row is not None else None


async def organizations_by_ids(ids: Sequence[UUID]) -> list[records.Organization]:
    if not ids:
        return []
    rows = await Organization.select().where(Organization.id.is_in(list(ids)))
    return [records.Organization(**row) for row in rows]


async def user_by_id(user_id: UUID) -> records.User | None:
    row = await User.select().where(User.id == user_id).first()
    return records.User(**row) if row is not None else None


_USER_COLUMNS = select_columns(User)


async def users_by_ids(ids: Sequence[UUID]) -> list[records.User]:
    if not ids:
        return []
    rows = await fetch(
        User,
        f"SELECT {_USER_COLUMNS} FROM app_user WHERE id IN ({placeholders(len(ids))})",  # noqa: S608
        *ids,
    )
    return [records.User(**row) for row in rows]


async def email_exists(email: str) -> bool:
    exists: bool = await User.exists().where(User.email == email)
    return exists


async def insert_user(
    *, email: str, display_name: str, home_organization_id: UUID, password_hash: str | None
) -> UUID:
    user = User(
        email=email,
        display_name=display_name,
        home_organization=home_organization_id,
        password_hash=password_hash,
    )
    await user.save()
    return UUID(str(user.id))


async def set_password_hash(user_id: UUID, password_hash: str, changed_at: datetime) -> None:
    await User.update({User.password_hash: password_hash, User.password_changed_at: changed_at}).where(
        User.id == user_id
    )


async def deactivate_user(user_id: UUID, at: datetime) -> None:
    await User.update({User.is_active: False, User.deactivated_at: at}).where(User.id == user_id)


class RoleHolding(Protocol):
    """A record naming an organization and a role in it (both None for a user without any):
    a membership, or a row of the statement that authenticates a request."""

    @property
    def organization(self) -> UUID | None: ...

    @property
    def role(self) -> str | None: ...


def role_mapping(rows: Iterable[RoleHolding]) -> Mapping[UUID, frozenset[Role]]:
    """Memberships (rows without an organization are skipped) as a read-only mapping, shared
    between users with the same roles."""
    grouped: dict[UUID, set[Role]] = defaultdict(set)
    for row in rows:
        if row.organization is not None and row.role is not None:
            grouped[row.organization].add(Role(row.role))
    mapping = {org: frozenset(roles) for org, roles in grouped.items()}
    key = frozenset(mapping.items())
    shared = _ROLE_MAPPINGS.get(key)
    if shared is None:
        shared = MappingProxyType(mapping)
        if len(_ROLE_MAPPINGS) < MAX_SHARED_ROLE_MAPPINGS:
            _ROLE_MAPPINGS[key] = shared
    return shared


# Colleagues with the same roles in the same organizations share one read-only mapping: every
# open WebSocket holds its user's actor, so this is per-socket memory.
_ROLE_MAPPINGS: dict[frozenset[tuple[UUID, frozenset[Role]]], Mapping[UUID, frozenset[Role]]] = {}
MAX_SHARED_ROLE_MAPPINGS = 10_000


async def roles_for_users(organization_id: UUID, user_ids: Sequence[UUID]) -> dict[UUID, set[Role]]:
    grouped: dict[UUID, set[Role]] = defaultdict(set)
    if not user_ids:
        return grouped
    rows = await Membership.select(Membership.user, Membership.role).where(
        (Membership.organization == organization_id) & Membership.user.is_in(list(user_ids))
    )
    for row in rows:
        grouped[row["user"]].add(Role(row["role"]))
    return grouped


async def memberships_of_users(user_ids: Sequence[UUID]) -> list[records.Membership]:
    if not user_ids:
        return []
    rows = await Membership.select(Membership.user, Membership.organization, Membership.role).where(
        Membership.user.is_in(list(user_ids))
    )
    return [records.Membership(**row) for row in rows]


async def replace_roles(user_id: UUID, organization_id: UUID, roles: Iterable[Role]) -> None:
    await Membership.delete().where(
        (Membership.user == user_id) & (Membership.organization == organization_id)
    )
    rows = [Membership(user=user_id, organization=organization_id, role=role.value) for role in roles]
    if rows:
        await Membership.insert(*rows)


async def count_role_holders(organization_id: UUID, role: Role, *, active_only: bool = True) -> int:
    query = Membership.count().where(
        (Membership.organization == organization_id) & (Membership.role == role.value)
    )
    if active_only:
        query = query.where(Membership.user._.is_active == True)  # noqa: E712 - SQL comparison
    count: int = await query
    return count


async def is_member_of(user_id: UUID, organization_id: UUID) -> bool:
    exists: bool = await Membership.exists().where(
        (Membership.user == user_id) & (Membership.organization == organization_id)
    )
    return exists


async def organization_user_page(
    organization_id: UUID, *, after_email: str | None, limit: int
) -> list[records.User]:
    """Users with any role in the organization or whose home it is, keyset-paginated by e-mail."""
    member_ids = Membership.select(Membership.user).where(Membership.organization == organization_id)
    query = (
        User.select()
        .where((User.home_organization == organization_id) | User.id.is_in(member_ids))
        .order_by(User.email)
        .limit(limit)
    )
    if after_email is not None:
        query = query.where(User.email > after_email)
    return [records.User(**row) for row in await query]


async def specialties_by_codes(codes: Sequence[str]) -> list[records.Specialty]:
    if not codes:
        return []
    rows = await Specialty.select().where(Specialty.code.is_in(list(codes)))
    return [records.Specialty(**row) for row in rows]


async def all_specialties() -> list[records.Specialty]:
    return [records.Specialty(**row) for row in await Specialty.select().order_by(Specialty.name)]


async def insert_specialties(entries: Sequence[tuple[str, str]]) -> None:
    await Specialty.insert(*(Specialty(code=code, name=name) for code, name in entries))


async def npi_exists(npi: str) -> bool:
    exists: bool = await Provider.exists().where(Provider.npi == npi)
    return exists


async def insert_provider(
    *,
    organization_id: UUID,
    npi: str,
    display_name: str,
    user_id: UUID | None,
    specialty_ids: Sequence[UUID],
    accepting_new_patients: bool = True,
) -> UUID:
    provider = Provider(
        organization=organization_id,
        npi=npi,
        display_name=display_name,
        user=user_id,
        accepting_new_patients=accepting_new_patients,
    )
    await provider.save()
    provider_id = UUID(str(provider.id))
    if specialty_ids:
        await ProviderSpecialty.insert(
            *(ProviderSpecialty(provider=provider_id, specialty=sid) for sid in specialty_ids)
        )
    return provider_id


_PROVIDER_COLUMNS = select_columns(Provider)


async def providers_by_ids(ids: Sequence[UUID]) -> list[records.Provider]:
    if not ids:
        return []
    rows = await fetch(
        Provider,
        f"SELECT {_PROVIDER_COLUMNS} FROM provider WHERE provider.id IN ({placeholders(len(ids))})",  # noqa: S608
        *ids,
    )
    return [records.Provider(**row) for row in rows]


async def providers_of_users(user_ids: Sequence[UUID]) -> list[records.Provider]:
    if not user_ids:
        return []
    rows = await fetch(
        Provider,
        f'SELECT {_PROVIDER_COLUMNS} FROM provider WHERE "user" IN ({placeholders(len(user_ids))})',  # noqa: S608
        *user_ids,
    )
    return [records.Provider(**row) for row in rows]


async def specialty_codes_of_providers(provider_ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    grouped: dict[UUID, list[str]] = defaultdict(list)
    if not provider_ids:
        return grouped
    rows = await ProviderSpecialty.select(
        ProviderSpecialty.provider, ProviderSpecialty.specialty.code.as_alias("code")
    ).where(ProviderSpecialty.provider.is_in(list(provider_ids)))
    for row in rows:
        grouped[row["provider"]].append(row["code"])
    return grouped


async def insert_invitation(user_id: UUID, token_hash: str, expires_at: datetime) -> None:
    await Invitation(user=user_id, token_hash=token_hash, expires_at=expires_at).save()


async def claim_invitation(token_hash: str, now: datetime) -> UUID | None:
    """Mark an unexpired, unused invitation used and return its user, atomically."""
    rows = await (
        Invitation.update({Invitation.used_at: now})
        .where(
            (Invitation.token_hash == token_hash)
            & Invitation.used_at.is_null()
            & (Invitation.expires_at > now)
        )
        .returning(Invitation.user)
    )
    return UUID(str(rows[0]["user"])) if rows else None


async def specialties_by_ids(ids: Sequence[UUID]) -> list[records.Specialty]:
    if not ids:
        return []
    rows = await Specialty.select().where(Specialty.id.is_in(list(ids)))
    return [records.Specialty(**row) for row in rows]


async def active_memberships_in(organization_ids: Sequence[UUID]) -> list[records.Membership]:
    """The memberships of active users in these organizations."""
    if not organization_ids:
        return []
    rows = await fetch(
        Membership,
        'SELECT membership."user", membership.organization, membership.role FROM membership '  # noqa: S608
        'JOIN app_user ON app_user.id = membership."user" '
        f"WHERE membership.organization IN ({placeholders(len(organization_ids))}) "
        "AND app_user.is_active = {}",
        *organization_ids,
        True,
    )
    return [records.Membership(**row) for row in rows]


async def memberships_and_provider_users(
    organization_ids: Sequence[UUID], provider_ids: Sequence[UUID]
) -> tuple[list[records.Membership], dict[UUID, UUID]]:
    """:func:`active_memberships_in` and each provider's user (providers without one left out),
    in one statement: who is behind a referral's parties (every referral event reads it)."""
    parts: list[str] = []
    arguments: list[object] = []
    if organization_ids:
        parts.append(
            "SELECT 'm' AS kind, membership.\"user\" AS user_id, membership.organization AS organization, "  # noqa: S608
            "membership.role AS role, NULL AS provider_id FROM membership "
            'JOIN app_user ON app_user.id = membership."user" '
            f"WHERE membership.organization IN ({placeholders(len(organization_ids))}) "
            "AND app_user.is_active = {}"
        )
        arguments += [*organization_ids, True]
    if provider_ids:
        parts.append(
            "SELECT 'p' AS kind, provider.\"user\" AS user_id, provider.organization AS organization, "  # noqa: S608
            "NULL AS role, provider.id AS provider_id FROM provider "
            f'WHERE provider.id IN ({placeholders(len(provider_ids))}) AND provider."user" IS NOT NULL'
        )
        arguments += list(provider_ids)
    if not parts:
        return [], {}
    rows = await fetch(Membership, " UNION ALL ".join(parts), *arguments)
    memberships = [
        records.Membership(
            user=_uuid(row["user_id"]), organization=_uuid(row["organization"]), role=row["role"]
        )
        for row in rows
        if row["kind"] == "m"
    ]
    return memberships, {
        _uuid(row["provider_id"]): _uuid(row["user_id"]) for row in rows if row["kind"] == "p"
    }


def _uuid(value: object) -> UUID:
    """SQLite gives a compound SELECT's columns no declared type, so their UUIDs come back as
    text (PostgreSQL's as UUIDs)."""
    return value if isinstance(value, UUID) else UUID(str(value))
