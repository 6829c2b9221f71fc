"""Per-request DataLoaders for account objects: one query per kind per request, never per row."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from strawberry.dataloader import DataLoader

from backend.accounts import records, repository
from backend.graphql.common import in_order


async def _organizations(ids: Sequence[UUID]) -> list[records.Organization | None]:
    return in_order(await repository.organizations_by_ids(ids), ids)


async def _memberships(user_ids: Sequence[UUID]) -> list[list[records.Membership]]:
    grouped: dict[UUID, list[records.Membership]] = defaultdict(list)
    for row in await repository.memberships_of_users(user_ids):
        grouped[row.user].append(row)
    return [grouped.get(i, []) for i in user_ids]


async def _provider_of_user(user_ids: Sequence[UUID]) -> list[records.Provider | None]:
    rows = {row.user: row for row in await repository.providers_of_users(user_ids) if row.user is not None}
    return [rows.get(i) for i in user_ids]


async def _specialty_codes(provider_ids: Sequence[UUID]) -> list[list[str]]:
    grouped = await repository.specialty_codes_of_providers(provider_ids)
    return [sorted(grouped.get(i, [])) for i in provider_ids]


def organization_loader() -> DataLoader[UUID, records.Organization | None]:
    return DataLoader(load_fn=_organizations)


def memberships_loader() -> DataLoader[UUID, list[records.Membership]]:
    return DataLoader(load_fn=_memberships)


def provider_of_user_loader() -> DataLoader[UUID, records.Provider | None]:
    return DataLoader(load_fn=_provider_of_user)


def specialty_codes_loader() -> DataLoader[UUID, list[str]]:
    return DataLoader(load_fn=_specialty_codes)
