"""Every directory query: plans, providers' plans and locations, network links, provider search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from uuid import UUID

from backend.accounts import records as accounts_records
from backend.accounts.tables import Provider, ProviderSpecialty
from backend.directory import records
from backend.directory.tables import InsurancePlan, NetworkLink, ProviderLocation, ProviderPlan


async def plan_by_id(plan_id: UUID) -> records.InsurancePlan | None:
    row = await InsurancePlan.select().where(InsurancePlan.id == plan_id).first()
    return records.InsurancePlan(**row) if row is not None else None


async def plans_by_ids(ids: Sequence[UUID]) -> list[records.InsurancePlan]:
    if not ids:
        return []
    rows = await InsurancePlan.select().where(InsurancePlan.id.is_in(list(ids)))
    return [records.InsurancePlan(**row) for row in rows]


async def all_plans() -> list[records.InsurancePlan]:
    rows = await InsurancePlan.select().order_by(InsurancePlan.payer).order_by(InsurancePlan.name)
    return [records.InsurancePlan(**row) for row in rows]


async def provider_by_id(provider_id: UUID) -> accounts_records.Provider | None:
    row = await Provider.select().where(Provider.id == provider_id).first()
    return accounts_records.Provider(**row) if row is not None else None


async def provider_has_specialty(provider_id: UUID, specialty_id: UUID) -> bool:
    exists: bool = await ProviderSpecialty.exists().where(
        (ProviderSpecialty.provider == provider_id) & (ProviderSpecialty.specialty == specialty_id)
    )
    return exists


async def in_network(organization_id: UUID, provider_id: UUID) -> bool:
    exists: bool = await NetworkLink.exists().where(
        (NetworkLink.organization == organization_id) & (NetworkLink.provider == provider_id)
    )
    return exists


async def network_provider_ids(organization_id: UUID, provider_ids: Sequence[UUID]) -> set[UUID]:
    if not provider_ids:
        return set()
    rows = await NetworkLink.select(NetworkLink.provider).where(
        (NetworkLink.organization == organization_id) & NetworkLink.provider.is_in(list(provider_ids))
    )
    return {row["provider"] for row in rows}


async def search_candidates(
    *, specialty_id: UUID, plan_id: UUID | None, accepting_only: bool, limit: int
) -> list[accounts_records.Provider]:
    """Providers with the specialty (and plan), at most ``limit``; ranking happens in the service."""
    with_specialty = ProviderSpecialty.select(ProviderSpecialty.provider).where(
        ProviderSpecialty.specialty == specialty_id
    )
    query = Provider.select().where(Provider.id.is_in(with_specialty))
    if plan_id is not None:
        with_plan = ProviderPlan.select(ProviderPlan.provider).where(ProviderPlan.plan == plan_id)
        query = query.where(Provider.id.is_in(with_plan))
    if accepting_only:
        query = query.where(Provider.accepting_new_patients == True)  # noqa: E712 - SQL comparison
    rows = await query.order_by(Provider.display_name).limit(limit)
    return [accounts_records.Provider(**row) for row in rows]


async def locations_of_providers(provider_ids: Sequence[UUID]) -> dict[UUID, list[records.ProviderLocation]]:
    grouped: dict[UUID, list[records.ProviderLocation]] = defaultdict(list)
    if not provider_ids:
        return grouped
    rows = await ProviderLocation.select().where(ProviderLocation.provider.is_in(list(provider_ids)))
    for row in rows:
        location = records.ProviderLocation(**row)
        grouped[location.provider].append(location)
    return grouped


async def insert_plans(entries: Sequence[tuple[str, str, str]]) -> None:
    await InsurancePlan.insert(*(InsurancePlan(code=c, payer=p, name=n) for c, p, n in entries))


async def link_plans(provider_id: UUID, plan_ids: Sequence[UUID]) -> None:
    if plan_ids:
        await ProviderPlan.insert(*(ProviderPlan(provider=provider_id, plan=p) for p in plan_ids))


async def insert_location(
    provider_id: UUID, name: str, address: str, latitude: float | None, longitude: float | None
) -> None:
    await ProviderLocation(
        provider=provider_id, name=name, address=address, latitude=latitude, longitude=longitude
    ).save()


async def link_network(organization_id: UUID, provider_ids: Sequence[UUID]) -> None:
    if provider_ids:
        await NetworkLink.insert(
            *(NetworkLink(organization=organization_id, provider=p) for p in provider_ids)
        )


async def network_links(
    organization_ids: Sequence[UUID], provider_ids: Sequence[UUID]
) -> list[records.NetworkLink]:
    """The links where the provider is in the organization's network."""
    if not organization_ids or not provider_ids:
        return []
    rows = await NetworkLink.select(NetworkLink.organization, NetworkLink.provider).where(
        NetworkLink.organization.is_in(list(organization_ids))
        & NetworkLink.provider.is_in(list(provider_ids))
    )
    return [records.NetworkLink(**row) for row in rows]
