"""A visit is completed once its booked appointment has started, or earlier with a stated reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support import database
from tests.support.referrals import RESULT, World, new_key, referral_in

COMPLETE_VISIT = (
    "mutation($input: ReferralChangeInput!, $earlyVisitReason: String) {"
    " completeVisit(input: $input, earlyVisitReason: $earlyVisitReason) {"
    " " + RESULT + " ... on ReferralError { appointmentStartsAt } } }"
)
EARLY_REASON = "Patient seen at walk-in clinic Wombat-Early-42, three days before the slot"


async def _complete(world: World, referral: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
    change = {"referralId": referral["id"], "version": referral["version"], "idempotencyKey": new_key()}
    variables: dict[str, Any] = {"input": change}
    if reason is not None:
        variables["earlyVisitReason"] = reason
    data = await world.api.data(COMPLETE_VISIT, variables, token=world.specialist.token)
    result: dict[str, Any] = data["completeVisit"]
    return result


async def test_a_visit_is_not_completed_before_its_appointment_starts(world: World) -> None:
    # given a referral whose appointment is booked days ahead
    scheduled = await referral_in(world, "SCHEDULED")
    starts_at = scheduled["appointment"]["startsAt"]
    assert datetime.fromisoformat(starts_at) > datetime.now(datetime.fromisoformat(starts_at).tzinfo)

    # when the specialist completes the visit now, giving no reason (the level-9 operation)
    refused = await world.act("COMPLETE_VISIT", scheduled, world.specialist)

    # then it is refused with a typed error carrying the appointment's start, and nothing changed
    assert refused["__typename"] == "ReferralError", refused
    assert refused["code"] == "VISIT_NOT_STARTED"
    result = await _complete(world, scheduled)
    assert result["code"] == "VISIT_NOT_STARTED"
    assert datetime.fromisoformat(result["appointmentStartsAt"]) == datetime.fromisoformat(starts_at)
    assert result["currentStatus"] == "SCHEDULED"
    assert "COMPLETE_VISIT" in result["allowedActions"]
    current = await world.read(scheduled["id"], world.referrer)
    assert current is not None
    assert (current["status"], current["version"]) == ("SCHEDULED", scheduled["version"])
    assert current["appointment"]["status"] == "BOOKED"
    assert len(current["timeline"]) == len(scheduled["timeline"])
    # and a blank reason is no reason
    blank = await _complete(world, scheduled, "   ")
    assert blank.get("code") == "VISIT_NOT_STARTED", blank


async def test_an_early_visit_needs_a_reason_which_the_timeline_keeps_sealed(world: World) -> None:
    # given a referral whose appointment is booked days ahead
    scheduled = await referral_in(world, "SCHEDULED")

    # when the reason is too long, then the input is refused and nothing changes
    too_long = await _complete(world, scheduled, "x" * 2001)
    assert too_long["__typename"] == "InputError", too_long
    assert [(e["field"], e["code"]) for e in too_long["fieldErrors"]] == [("earlyVisitReason", "TOO_LONG")]

    # when the specialist completes the visit early, saying why
    result = await _complete(world, scheduled, EARLY_REASON)

    # then the visit is completed and the timeline entry carries the reason as its note
    assert result["__typename"] == "ReferralChangeSuccess", result
    referral = result["referral"]
    assert referral["status"] == "VISIT_COMPLETED"
    assert referral["appointment"]["status"] == "COMPLETED"
    last = referral["timeline"][-1]
    assert (last["action"], last["note"]) == ("COMPLETE_VISIT", EARLY_REASON)
    # and the note is sealed like every timeline note
    assert "Wombat-Early-42" not in await database.dump()


async def test_a_visit_whose_appointment_started_is_completed_without_a_reason(world: World) -> None:
    # given a referral whose appointment started an hour ago
    scheduled = await referral_in(world, "SCHEDULED")
    await world.visit_time_arrives(scheduled)

    # when the specialist completes the visit
    result = await _complete(world, scheduled)

    # then it is completed, the timeline note empty
    assert result["__typename"] == "ReferralChangeSuccess", result
    assert result["referral"]["status"] == "VISIT_COMPLETED"
    assert result["referral"]["timeline"][-1]["note"] == ""
