"""Live referral events over real WebSockets: who gets them, in order, resumable."""

from __future__ import annotations

import uuid

from tests.support.graphql_ids import global_id
from tests.support.referrals import World, referral_in
from tests.support.ws import EVENTS, REFERRAL_EVENTS, STREAM_POSITION, connect


async def _position(world: World, token: str) -> int:
    data = await world.api.data(STREAM_POSITION, token=token)
    return int(data["streamPosition"])


async def test_an_acceptance_reaches_the_referrer_and_no_one_else(world: World) -> None:
    # given a referral in review, and the referrer and an outsider subscribed from their positions
    referral = await referral_in(world, "IN_REVIEW")
    url = world.api.server.ws_url
    async with (
        connect(url, world.referrer.token) as referrer,
        connect(url, world.outsider_coordinator.token) as outsider,
        connect(url, world.colleague.token) as colleague,
    ):
        await referrer.subscribe("1", EVENTS, {"after": await _position(world, world.referrer.token)})
        await outsider.subscribe("1", EVENTS, {"after": 0})
        await colleague.subscribe("1", EVENTS, {"after": 0})

        # when the specialist accepts it
        accepted = await world.step("ACCEPT", referral, world.specialist)

        # then the referrer receives the typed status change, and the others nothing
        [event] = await referrer.events(1)
        assert event["__typename"] == "ReferralStatusChanged"
        assert (event["referralId"], event["status"], event["previousStatus"]) == (
            referral["id"],
            "ACCEPTED",
            "IN_REVIEW",
        )
        assert event["version"] == accepted["version"]
        await outsider.nothing_more()
        await colleague.nothing_more()


async def test_a_referral_subscription_answers_not_found_for_non_parties_and_missing_ids(
    world: World,
) -> None:
    referral = await referral_in(world, "SENT")
    missing = global_id("Referral", uuid.uuid4())
    async with connect(world.api.server.ws_url, world.outsider_specialist.token) as socket:
        answers = []
        for operation_id, referral_id in (("a", referral["id"]), ("b", missing)):
            await socket.subscribe(operation_id, REFERRAL_EVENTS, {"referralId": referral_id, "after": 0})
            message = await socket.receive()
            answers.append({k: v for k, v in message.items() if k != "id"})
        assert answers[0] == answers[1]
        assert answers[0]["type"] == "error"
        assert answers[0]["payload"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_a_client_resumes_with_exactly_the_events_it_missed_then_live_ones(world: World) -> None:
    # given a client that saw the stream up to a position, then disconnected
    referral = await referral_in(world, "ACCEPTED")
    start = await _position(world, world.referrer.token)

    # when 50 events happen while it is away
    statuses = ("VERIFIED", "FAILED")
    for index in range(50):
        referral = await world.step(
            "UPDATE_INSURANCE",
            referral,
            world.referring_coordinator,
            status=statuses[index % 2],
            note="checked",
        )
    missed = await _position(world, world.referrer.token) - start
    assert missed == 50

    # then reconnecting after its last sequence replays exactly those, in order, then live ones
    async with connect(world.api.server.ws_url, world.referrer.token) as socket:
        await socket.subscribe("feed", EVENTS, {"after": start})
        replayed = await socket.events(missed)
        assert [e["sequence"] for e in replayed] == list(range(start + 1, start + missed + 1))
        await world.step("SCHEDULE", referral, world.receiving_coordinator)
        live = await socket.events(2)
        assert [e["__typename"] for e in live] == ["ReferralStatusChanged", "AppointmentChanged"]
        assert [e["sequence"] for e in live] == [start + 51, start + 52]
        await socket.nothing_more()
