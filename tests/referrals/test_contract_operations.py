"""The referral operations the apps ship (mobile_contract/operations) run against the real server."""

from __future__ import annotations

from pathlib import Path

from tests.support.graphql_ids import global_id
from tests.support.referrals import World, new_key, referral_in

OPERATIONS = Path(__file__).resolve().parents[2] / "mobile_contract" / "operations"


def _operation(name: str) -> str:
    from tests.test_contract import with_fragments

    return with_fragments((OPERATIONS / f"{name}.graphql").read_text())


async def test_the_apps_operations_answer_without_errors(world: World) -> None:
    # given a referral in review
    referral = await referral_in(world, "IN_REVIEW")

    # when the specialist's app loads the inbox, the badges and the detail, then accepts
    inbox = await world.api.data(
        _operation("Inbox"), {"view": "INCOMING", "first": 20}, token=world.specialist.token
    )
    counts = await world.api.data(
        _operation("ReferralStatusCounts"), {"view": "INCOMING"}, token=world.specialist.token
    )
    detail = await world.api.data(
        _operation("Referral"), {"id": referral["id"]}, token=world.specialist.token
    )
    accepted = await world.api.data(
        _operation("AcceptReferral"),
        {
            "input": {
                "referralId": referral["id"],
                "version": referral["version"],
                "idempotencyKey": new_key(),
            }
        },
        token=world.specialist.token,
    )
    queue = await world.api.data(
        _operation("Inbox"),
        {"view": "ORGANIZATION_QUEUE", "organizationId": global_id("Organization", world.receiving_org)},
        token=world.receiving_coordinator.token,
    )

    # then each answers data shaped as the app expects
    assert [e["node"]["id"] for e in inbox["referrals"]["edges"]] == [referral["id"]]
    assert counts["referralStatusCounts"] == [{"status": "IN_REVIEW", "count": 1}]
    assert detail["referral"]["allowedActions"] == ["REQUEST_INFO", "ACCEPT", "DECLINE", "ADD_DOCUMENT"]
    assert accepted["acceptReferral"]["referral"]["status"] == "ACCEPTED"
    assert len(queue["referrals"]["edges"]) == 1
