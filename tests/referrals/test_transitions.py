"""Every status x action pair: illegal ones fail with the typed error, legal ones succeed only
for the permitted party, and a refused change writes nothing.

The expected table below is written from SPEC §2 independently of backend/referrals/lifecycle.py,
so a change to the rules there has to be made here too, on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.referrals import PATHS, World, referral_in

# action -> (statuses it is legal in, parties permitted)
R_PROVIDER, R_STAFF, X_PROVIDER, X_STAFF = (
    "referrer",
    "referring_coordinator",
    "specialist",
    "receiving_coordinator",
)
REFERRER = {R_PROVIDER, R_STAFF}
SCHEDULERS = {X_PROVIDER, X_STAFF, R_STAFF}
BEFORE_VISIT = {"SENT", "IN_REVIEW", "NEEDS_INFO", "ACCEPTED", "SCHEDULED", "NO_SHOW"}
OPEN = BEFORE_VISIT | {"DRAFT", "VISIT_COMPLETED"}
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "EDIT": ({"DRAFT"}, REFERRER),
    "SEND": ({"DRAFT"}, REFERRER),
    "ROUTE": ({"SENT", "IN_REVIEW"}, {X_STAFF}),
    "CLAIM": ({"SENT"}, {X_PROVIDER}),
    "REQUEST_INFO": ({"SENT", "IN_REVIEW"}, {X_PROVIDER}),
    "PROVIDE_INFO": ({"NEEDS_INFO"}, REFERRER),
    "ACCEPT": ({"SENT", "IN_REVIEW"}, {X_PROVIDER}),
    "DECLINE": ({"SENT", "IN_REVIEW"}, {X_PROVIDER}),
    "SCHEDULE": ({"ACCEPTED", "NO_SHOW"}, SCHEDULERS),
    "RESCHEDULE": ({"SCHEDULED"}, SCHEDULERS),
    "CANCEL_APPOINTMENT": ({"SCHEDULED"}, SCHEDULERS),
    "MARK_NO_SHOW": ({"SCHEDULED"}, SCHEDULERS),
    "COMPLETE_VISIT": ({"SCHEDULED"}, {X_PROVIDER, X_STAFF}),
    "CLOSE": ({"VISIT_COMPLETED"}, {X_PROVIDER}),
    "CANCEL": (OPEN - {"VISIT_COMPLETED"}, {R_PROVIDER, R_STAFF, X_STAFF}),
    "REDIRECT": ({"DECLINED"}, REFERRER),
    "ADD_DOCUMENT": (OPEN, REFERRER | {X_PROVIDER, X_STAFF}),
    "UPDATE_INSURANCE": (BEFORE_VISIT, {R_STAFF, X_STAFF}),
    "UPDATE_PRIOR_AUTH": (BEFORE_VISIT, {R_STAFF, X_STAFF}),
}
NEXT_STATUS = {
    "SEND": "SENT",
    "CLAIM": "IN_REVIEW",
    "REQUEST_INFO": "NEEDS_INFO",
    "PROVIDE_INFO": "IN_REVIEW",
    "ACCEPT": "ACCEPTED",
    "DECLINE": "DECLINED",
    "SCHEDULE": "SCHEDULED",
    "CANCEL_APPOINTMENT": "ACCEPTED",
    "MARK_NO_SHOW": "NO_SHOW",
    "COMPLETE_VISIT": "VISIT_COMPLETED",
    "CLOSE": "CLOSED",
    "CANCEL": "CANCELLED",
}
PARTIES = (R_PROVIDER, R_STAFF, X_PROVIDER, X_STAFF)


def _allowed_for(status: str, party: str) -> list[str]:
    return sorted(a for a, (statuses, parties) in EXPECTED.items() if status in statuses and party in parties)


async def _unchanged(world: World, referral: dict[str, Any]) -> None:
    current = await world.read(referral["id"], world.referrer)
    assert current is not None
    assert current["version"] == referral["version"]
    assert len(current["timeline"]) == len(referral["timeline"])
    assert len(current["documents"]) == len(referral["documents"])


@pytest.mark.parametrize("status", sorted(PATHS))
async def test_every_action_in_this_status_obeys_the_rules(world: World, status: str) -> None:
    # given a referral in this status
    shared = await referral_in(world, status)

    for party in PARTIES:
        person = getattr(world, party)
        visible = await world.read(shared["id"], person)
        if status == "DRAFT" and party in (X_PROVIDER, X_STAFF):
            assert visible is None, "the receiving side sees nothing of a draft"
            continue
        assert visible is not None
        # then the actions offered to this party are exactly the expected ones
        assert sorted(visible["allowedActions"]) == _allowed_for(status, party), party

    for action, (statuses, permitted) in EXPECTED.items():
        if status not in statuses:
            # when an illegal action is attempted (by someone who could do it elsewhere)
            actor = getattr(world, sorted(permitted)[0])
            result = await world.act(action, shared, actor)
            # then it fails naming the current status and the allowed actions, and writes nothing
            if status == "DRAFT" and sorted(permitted)[0] in (X_PROVIDER, X_STAFF):
                assert result["code"] == "NOT_FOUND", (action, result)
            else:
                assert result["__typename"] == "ReferralError", (action, result)
                assert result["code"] == "ILLEGAL_TRANSITION", (action, result)
                assert result["currentStatus"] == status
                assert sorted(result["allowedActions"]) == _allowed_for(status, sorted(permitted)[0])
            await _unchanged(world, shared)
            continue
        hidden = {X_PROVIDER, X_STAFF} if status == "DRAFT" else set()
        for party in PARTIES:
            if party in permitted - hidden:
                continue
            result = await world.act(action, shared, getattr(world, party))
            expected_code = "NOT_FOUND" if party in hidden else "NOT_PERMITTED"
            assert result.get("code") == expected_code, (action, party, result)
            await _unchanged(world, shared)
        for party in sorted(permitted - hidden):
            # when a permitted party takes a legal action on a fresh referral in this status
            fresh = await referral_in(world, status)
            if action == "COMPLETE_VISIT":
                await world.visit_time_arrives(fresh)
            done = await world.step(action, fresh, getattr(world, party))
            # then it succeeds, moves the status as SPEC §2 says, and bumps the version
            if action == "REDIRECT":
                assert done["status"] == "DRAFT"
                assert done["redirectedFromId"] == fresh["id"]
            else:
                assert done["status"] == NEXT_STATUS.get(action, status), (action, party)
                assert done["version"] == fresh["version"] + 1
                assert done["timeline"][-1]["action"] == action
