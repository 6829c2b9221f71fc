"""Directory search: who can take this patient, best first.

Ranking: in the sender's network first (its own providers always are), then accepting new
patients, then distance from the given point when both sides have coordinates, then name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from uuid import UUID

from backend.accounts import records as accounts_records
from backend.accounts import repository as accounts
from backend.accounts.actor import Actor
from backend.core.errors import InvalidInput
from backend.directory import records, repository
from backend.directory.codes import NetworkStatus
from backend.directory.limits import MAX_CANDIDATES

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class ProviderMatch:
    provider: accounts_records.Provider
    network_status: NetworkStatus
    distance_km: float | None


async def network_status(organization_id: UUID, provider: accounts_records.Provider) -> NetworkStatus:
    if provider.organization == organization_id:
        return NetworkStatus.IN_NETWORK
    if await repository.in_network(organization_id, provider.id):
        return NetworkStatus.IN_NETWORK
    return NetworkStatus.OUT_OF_NETWORK


async def search_providers(
    actor: Actor,
    *,
    for_organization_id: UUID,
    specialty_code: str,
    plan_id: UUID | None,
    accepting_only: bool,
    near: tuple[float, float] | None,
    limit: int,
) -> list[ProviderMatch]:
    problems = InvalidInput()
    if not actor.is_member(for_organization_id):
        problems.add("organizationId", "NOT_A_MEMBER", "Search on behalf of an organization you belong to.")
    specialties = await accounts.specialties_by_codes([specialty_code])
    if not specialties:
        problems.add("specialtyCode", "UNKNOWN_SPECIALTY", "Unknown specialty code.")
    if near is not None and not (-90 <= near[0] <= 90 and -180 <= near[1] <= 180):
        problems.add("near", "INVALID_COORDINATES", "Latitude -90…90 and longitude -180…180.")
    problems.raise_if_any()
    candidates = await repository.search_candidates(
        specialty_id=specialties[0].id,
        plan_id=plan_id,
        accepting_only=accepting_only,
        limit=MAX_CANDIDATES,
    )
    ids = [row.id for row in candidates]
    linked = await repository.network_provider_ids(for_organization_id, ids)
    locations = await repository.locations_of_providers(ids) if near else {}
    matches = []
    for row in candidates:
        in_net = row.organization == for_organization_id or row.id in linked
        distance = _nearest(near, locations.get(row.id, [])) if near else None
        matches.append(
            ProviderMatch(
                provider=row,
                network_status=NetworkStatus.IN_NETWORK if in_net else NetworkStatus.OUT_OF_NETWORK,
                distance_km=distance,
            )
        )
    matches.sort(
        key=lambda m: (
            m.network_status != NetworkStatus.IN_NETWORK,
            not m.provider.accepting_new_patients,
            m.distance_km if m.distance_km is not None else math.inf,
            m.provider.display_name,
        )
    )
    return matches[:limit]


def _nearest(point: tuple[float, float] | None, locations: list[records.ProviderLocation]) -> float | None:
    if point is None:
        return None
    distances = [
        _haversine_km(point, (loc.latitude, loc.longitude))
        for loc in locations
        if loc.latitude is not None and loc.longitude is not None
    ]
    return round(min(distances), 1) if distances else None


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
