"""One referral walks every state over GraphQL/HTTP, each step by the right user."""

from __future__ import annotations

from tests.support.referrals import World


async def test_a_referral_walks_the_whole_loop_and_the_timeline_records_every_step(world: World) -> None:
    # given a draft from the referring provider
    referral = await world.draft()
    assert referral["status"] == "DRAFT"
    assert "SEND" in referral["allowedActions"]

    # when it travels through review, a question, acceptance, a missed visit, a visit and the outcome
    referral = await world.step("SEND", referral, world.referrer)
    assert referral["dueAt"] is not None
    referral = await world.step("CLAIM", referral, world.specialist)
    referral = await world.step("REQUEST_INFO", referral, world.specialist)
    assert referral["dueAt"] is None, "the response clock pauses while the referrer answers"
    referral = await world.step("PROVIDE_INFO", referral, world.referrer)
    referral = await world.step("ADD_DOCUMENT", referral, world.referrer)
    referral = await world.step("UPDATE_INSURANCE", referral, world.referring_coordinator)
    referral = await world.step("ACCEPT", referral, world.specialist)
    referral = await world.step("SCHEDULE", referral, world.receiving_coordinator)
    assert referral["appointment"]["status"] == "BOOKED"
    referral = await world.step("MARK_NO_SHOW", referral, world.receiving_coordinator)
    referral = await world.step("SCHEDULE", referral, world.referring_coordinator)
    referral = await world.step("RESCHEDULE", referral, world.receiving_coordinator)
    await world.visit_time_arrives(referral)
    referral = await world.step("COMPLETE_VISIT", referral, world.specialist)
    referral = await world.step("CLOSE", referral, world.specialist)

    # then the loop is closed, the referrer reads the outcome, and the timeline has every step
    assert referral["status"] == "CLOSED"
    assert referral["allowedActions"] == []
    seen_by_referrer = await world.read(referral["id"], world.referrer)
    assert seen_by_referrer is not None
    assert seen_by_referrer["outcomeReport"].startswith("Paroxysmal AF")
    steps = [(e["action"], e["fromStatus"], e["toStatus"]) for e in seen_by_referrer["timeline"]]
    assert steps == [
        ("CREATE", None, "DRAFT"),
        ("SEND", "DRAFT", "SENT"),
        ("CLAIM", "SENT", "IN_REVIEW"),
        ("REQUEST_INFO", "IN_REVIEW", "NEEDS_INFO"),
        ("PROVIDE_INFO", "NEEDS_INFO", "IN_REVIEW"),
        ("ADD_DOCUMENT", "IN_REVIEW", "IN_REVIEW"),
        ("UPDATE_INSURANCE", "IN_REVIEW", "IN_REVIEW"),
        ("ACCEPT", "IN_REVIEW", "ACCEPTED"),
        ("SCHEDULE", "ACCEPTED", "SCHEDULED"),
        ("MARK_NO_SHOW", "SCHEDULED", "NO_SHOW"),
        ("SCHEDULE", "NO_SHOW", "SCHEDULED"),
        ("RESCHEDULE", "SCHEDULED", "SCHEDULED"),
        ("COMPLETE_VISIT", "SCHEDULED", "VISIT_COMPLETED"),
        ("CLOSE", "VISIT_COMPLETED", "CLOSED"),
    ]
    assert seen_by_referrer["timeline"][3]["note"] == "Is there a recent echocardiogram?"
    assert all(e["actorName"] for e in seen_by_referrer["timeline"])
    assert seen_by_referrer["insurance"]["status"] == "VERIFIED"
    assert seen_by_referrer["appointment"]["status"] == "COMPLETED"


async def test_a_declined_referral_is_redirected_to_a_linked_draft(world: World) -> None:
    # given a referral the specialist declined
    referral = await world.step("SEND", await world.draft(), world.referrer)
    declined = await world.step("DECLINE", referral, world.specialist, reason="NO_CAPACITY")
    assert declined["statusReason"] == "NO_CAPACITY"
    assert declined["allowedActions"] == []

    # when the referrer redirects it to another specialist
    redirected = await world.step(
        "REDIRECT", await world.read(declined["id"], world.referrer) or {}, world.referrer
    )

    # then a new draft exists, linked to the declined one, which stays declined
    assert redirected["status"] == "DRAFT"
    assert redirected["redirectedFromId"] == declined["id"]
    assert redirected["receivingProvider"]["id"] == world.second_specialist_gid
    original = await world.read(declined["id"], world.referrer)
    assert original is not None
    assert original["status"] == "DECLINED"


async def test_a_referral_to_an_organization_queue_is_routed_by_its_coordinator(world: World) -> None:
    from tests.support.graphql_ids import global_id

    # given a referral sent to the receiving organization's cardiology queue
    draft = await world.draft(
        receivingProviderId=None, receivingOrganizationId=global_id("Organization", world.receiving_org)
    )
    sent = await world.step("SEND", draft, world.referrer)
    assert sent["receivingProvider"] is None
    # then the specialist does not see it yet, and cannot accept it
    assert await world.read(sent["id"], world.specialist) is None

    # when the receiving coordinator routes it to the specialist
    routed = await world.step("ROUTE", sent, world.receiving_coordinator)

    # then the specialist sees it and may accept it
    assert routed["receivingProvider"]["id"] == world.specialist_gid
    seen = await world.read(sent["id"], world.specialist)
    assert seen is not None
    assert "ACCEPT" in seen["allowedActions"]
