"""Optimistic concurrency and idempotency under real concurrent requests (both engines)."""

from __future__ import annotations

import asyncio

from tests.support.referrals import World, mutation_document, new_key, referral_in


async def test_two_concurrent_accepts_one_wins_the_other_gets_a_version_conflict(world: World) -> None:
    # given a referral under review, loaded at the same version on two devices
    referral = await referral_in(world, "IN_REVIEW")

    # when both accept at once, each with its own idempotency key
    first, second = await asyncio.gather(
        world.act("ACCEPT", referral, world.specialist), world.act("ACCEPT", referral, world.specialist)
    )

    # then exactly one succeeds and the other is told the version moved on
    outcomes = sorted([first["__typename"], second["__typename"]])
    assert outcomes == ["ReferralChangeSuccess", "ReferralError"], (first, second)
    loser = first if first["__typename"] == "ReferralError" else second
    assert loser["code"] == "VERSION_CONFLICT"
    assert loser["currentVersion"] == referral["version"] + 1
    current = await world.read(referral["id"], world.referrer)
    assert current is not None
    assert [e["action"] for e in current["timeline"]].count("ACCEPT") == 1


async def test_twenty_concurrent_retries_with_one_key_have_one_effect_and_identical_answers(
    world: World,
) -> None:
    # given a referral under review and one idempotency key
    referral = await referral_in(world, "IN_REVIEW")
    payload = {
        "referralId": referral["id"],
        "version": referral["version"],
        "idempotencyKey": new_key(),
        "note": "",
    }

    # when the same request is sent twenty times at once
    responses = await asyncio.gather(
        *(
            world.api.data(mutation_document("ACCEPT"), {"input": payload}, token=world.specialist.token)
            for _ in range(20)
        )
    )

    # then every answer is the same success, and the referral was accepted once
    assert all(r == responses[0] for r in responses)
    assert responses[0]["acceptReferral"]["__typename"] == "ReferralChangeSuccess"
    current = await world.read(referral["id"], world.referrer)
    assert current is not None
    assert current["version"] == referral["version"] + 1
    assert [e["action"] for e in current["timeline"]].count("ACCEPT") == 1


async def test_a_reused_key_with_different_input_is_refused(world: World) -> None:
    # given an accepted referral whose acceptance used a key
    referral = await referral_in(world, "IN_REVIEW")
    key = new_key()
    accepted = await world.step("ACCEPT", referral, world.specialist, idempotencyKey=key)

    # when the same key is sent with a different input
    reused = await world.act("ACCEPT", referral, world.specialist, idempotencyKey=key, note="different")
    # then it is refused with a typed error, and a true retry still answers the first result
    assert reused["code"] == "IDEMPOTENCY_KEY_REUSED"
    retried = await world.step("ACCEPT", referral, world.specialist, idempotencyKey=key)
    assert retried["version"] == accepted["version"]
    assert retried["status"] == "ACCEPTED"


async def test_creating_a_referral_is_idempotent_too(world: World) -> None:
    key = new_key()
    first, second = await world.create(idempotencyKey=key), await world.create(idempotencyKey=key)
    assert first == second
    assert first["__typename"] == "ReferralChangeSuccess"
