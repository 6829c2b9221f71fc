"""Every event the apps receive matches its JSON Schema in mobile_contract/events/."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.support.referrals import World, referral_in
from tests.test_contract import with_fragments

CONTRACT = Path(__file__).resolve().parents[2] / "mobile_contract"
SCHEMAS = {
    path.name.removesuffix(".schema.json"): json.loads(path.read_text())
    for path in (CONTRACT / "events").glob("*.json")
}


async def test_events_of_a_whole_referral_life_match_the_published_schemas(world: World) -> None:
    from tests.support.ws import connect

    # given the referrer subscribed with the contract's own operation
    query = with_fragments((CONTRACT / "operations" / "Events.graphql").read_text())
    async with connect(world.api.server.ws_url, world.referrer.token) as socket:
        await socket.subscribe("feed", query, {"after": 0})
        # when a referral is created, sent, documented, accepted, booked, seen and closed
        referral = await referral_in(world, "VISIT_COMPLETED")
        referral = await world.step("ADD_DOCUMENT", referral, world.specialist)
        await world.step("CLOSE", referral, world.specialist)
        events = await socket.events(10)
    # then each event validates against the schema of its type, and every type was seen
    for event in events:
        jsonschema.validate(event, SCHEMAS[event["__typename"]], format_checker=jsonschema.FormatChecker())
    assert {e["__typename"] for e in events} == set(SCHEMAS)
