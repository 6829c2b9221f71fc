"""Directory search: specialty and plan, in-network first, accepting patients, then distance."""

from __future__ import annotations

from backend.accounts.codes import Role
from tests.support.factories import DirectoryFactory, Factory
from tests.support.graphql_ids import global_id
from tests.support.referrals import World

SEARCH = """
query($input: ProviderSearchInput!) {
  providerSearch(input: $input) { networkStatus distanceKm provider { id acceptingNewPatients } }
}
"""


async def test_search_ranks_in_network_first_then_nearest_and_filters_by_plan(
    world: World, factory: Factory, directory: DirectoryFactory
) -> None:
    from backend.directory import repository as directory_repository

    # given a specialty with three providers: two in the sender's network (one far, one near), one outside
    specialty = await factory.specialty()
    plan = await directory.plan()
    far = await directory.clinician(factory, world.receiving_org, Role.SPECIALIST, specialty)
    near = await directory.clinician(factory, world.receiving_org, Role.SPECIALIST, specialty)
    outside = await directory.clinician(factory, world.outsider_org, Role.SPECIALIST, specialty)
    container = world.api.server.container
    async with container.database.unit_of_work():
        for clinician, (lat, lon) in (
            (far, (40.0, -75.0)),
            (near, (39.96, -75.16)),
            (outside, (39.95, -75.17)),
        ):
            await directory_repository.insert_location(clinician.provider_id, "Clinic", "1 Main St", lat, lon)
        await directory_repository.link_plans(near.provider_id, [plan])
        await directory_repository.link_plans(outside.provider_id, [plan])
    await directory.network_link(world.referring_org, far.provider_id)
    await directory.network_link(world.referring_org, near.provider_id)
    search = {
        "organizationId": global_id("Organization", world.referring_org),
        "specialtyCode": specialty,
        "nearLatitude": 39.95,
        "nearLongitude": -75.16,
    }

    # when the referrer searches near a point
    data = await world.api.data(SEARCH, {"input": search}, token=world.referrer.token)
    ranked = [(m["provider"]["id"], m["networkStatus"]) for m in data["providerSearch"]]

    # then in-network providers come first, nearest first, then the out-of-network one
    assert ranked == [
        (global_id("Provider", near.provider_id), "IN_NETWORK"),
        (global_id("Provider", far.provider_id), "IN_NETWORK"),
        (global_id("Provider", outside.provider_id), "OUT_OF_NETWORK"),
    ]
    assert data["providerSearch"][0]["distanceKm"] < 2

    # and a plan filter keeps only providers accepting that plan
    with_plan = {**search, "insurancePlanId": global_id("InsurancePlan", plan)}
    data = await world.api.data(SEARCH, {"input": with_plan}, token=world.referrer.token)
    assert [m["provider"]["id"] for m in data["providerSearch"]] == [
        global_id("Provider", near.provider_id),
        global_id("Provider", outside.provider_id),
    ]
