"""The escalation ladder over the public API, with a clock the test controls: the runner fires each
rung at its time, with a timeline entry, a stream event for everyone who may see the referral, and
a PHI-free push to the rung's audience; changes cancel and move the pending steps."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from backend.automation.runner import Runner
from backend.referrals.tables import Referral
from backend.settings import AutomationSettings
from tests.conftest import LiveServer
from tests.support.graphql_ids import uuid_of
from tests.support.push import assert_valid, new_token, register
from tests.support.referrals import Person, World, referral_in
from tests.support.ws import connect
from tools.fake_fcm import FakeFcm

STEPS = """
query($id: ID!) { referral(id: $id) {
  id version status respondBy: dueAt
  nextAutomatedStep { rule dueAt deadline audience }
  pendingAutomatedSteps { rule dueAt deadline audience }
  timeline { action reasonCode note actorName toStatus }
} }
"""
AUTOMATION_EVENTS = """
subscription Events($after: Int!) {
  events(after: $after) {
    __typename type referralId action
    ... on AutomationStepFired { rule audience deadline late }
  }
}
"""


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def runner(live_server: LiveServer) -> Runner:
    """The ladder's runner, driven by the test with the instants it chooses."""
    return Runner(live_server.container.database, AutomationSettings(late_seconds=300))


async def _read(world: World, referral: dict[str, Any], person: Person | None = None) -> dict[str, Any]:
    data = await world.api.data(STEPS, {"id": referral["id"]}, token=(person or world.referrer).token)
    found: dict[str, Any] = data["referral"]
    return found


async def _device(world: World, person: Person) -> str:
    session = await world.api.login(person.user.email, person.user.password, device_id=f"phone-{new_token()}")
    token = new_token()
    await register(world.api, session.access, token)
    return token


async def _fire_next(
    runner: Runner, world: World, referral: dict[str, Any], rule: str | None = None
) -> dict[str, Any]:
    """Run the runner one second after the referral's next step (of ``rule``) is due."""
    pending = (await _read(world, referral))["pendingAutomatedSteps"]
    step: dict[str, Any] = next(s for s in pending if rule is None or s["rule"] == rule)
    await run_until_idle(runner, _at(step["dueAt"]) + timedelta(seconds=1))
    return step


async def run_until_idle(runner: Runner, now: datetime) -> None:
    """Tick at ``now`` until nothing more is due (other tests' referrals share the database)."""
    while await runner.run_once(now=now) >= runner.settings.batch:
        pass


async def test_a_stat_referral_climbs_its_ladder_and_each_rung_reaches_its_audience(
    world: World, live_server: LiveServer, runner: Runner, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given phones for everyone on the receiving side and sockets for the referrer and coordinator
    specialist_phone = await _device(world, world.specialist)
    coordinator_phone = await _device(world, world.receiving_coordinator)
    manager_phone = await _device(world, world.receiving_manager)
    referrer_phone = await _device(world, world.referrer)
    ws_url = live_server.base_url.replace("http", "ws") + "/graphql"
    async with (
        connect(ws_url, world.referrer.token) as referrer_socket,
        connect(ws_url, world.receiving_coordinator.token) as coordinator_socket,
    ):
        for socket in (referrer_socket, coordinator_socket):
            await socket.subscribe("1", AUTOMATION_EVENTS, {"after": 0})
        # when a STAT referral is sent (respond within 4 hours)
        referral = await world.step("SEND", await world.draft(priority="STAT"), world.referrer)
        respond_by = _at((await _read(world, referral))["respondBy"])
        expected = [
            ("RESPOND_REMINDER", respond_by - timedelta(hours=3), "RECEIVING_PROVIDER", specialist_phone),
            ("RESPOND_REMINDER", respond_by - timedelta(hours=1), "RECEIVING_PROVIDER", specialist_phone),
            ("RESPOND_ESCALATION", respond_by, "RECEIVING_COORDINATORS", coordinator_phone),
            (
                "RESPOND_MANAGER_ESCALATION",
                respond_by + timedelta(hours=1),
                "RECEIVING_MANAGERS",
                manager_phone,
            ),
        ]
        pushes: dict[str, int] = {}
        for rule, due, audience, phone in expected:
            # then the referral shows the next step and when it is due
            step = await _fire_next(runner, world, referral)
            assert (step["rule"], step["audience"]) == (rule, audience)
            assert abs(_at(step["dueAt"]) - due) < timedelta(seconds=2)
            # and that rung's audience gets one PHI-free push of the right kind
            pushes[phone] = pushes.get(phone, 0) + 1
            message = (await _automation_pushes(fake_fcm, phone, pushes[phone]))[-1]
            assert_valid(message)
            escalation = rule.endswith("ESCALATION")
            assert message["data"]["type"] == ("REFERRAL_ESCALATION" if escalation else "REFERRAL_REMINDER")
            assert message["data"]["referralId"] == referral["id"]
        # and both sockets saw every rung, in order, as AutomationStepFired events
        for socket in (referrer_socket, coordinator_socket):
            events = await _automation_events(socket, len(expected))
            assert [(e["rule"], e["audience"], e["late"]) for e in events] == [
                (rule, audience, False) for rule, _, audience, _ in expected
            ]
    # and the timeline holds one entry per rung by the system, naming whom it told
    timeline = (await _read(world, referral))["timeline"]
    automated = [e for e in timeline if e["action"] in ("REMIND", "ESCALATE")]
    assert [e["reasonCode"] for e in automated] == [rule for rule, *_ in expected]
    assert all(e["actorName"] is None for e in automated)
    assert "receiving organization's coordinators" in automated[2]["note"]
    # and the referrer, who was on no rung, got no automated push; expiry is the last rung left
    automated = ("REFERRAL_REMINDER", "REFERRAL_ESCALATION")
    assert [s for s in fake_fcm.received(referrer_phone) if s.message["data"]["type"] in automated] == []
    assert (await _read(world, referral))["nextAutomatedStep"]["rule"] == "EXPIRY"


async def _automation_pushes(fake_fcm: FakeFcm, phone: str, count: int) -> list[dict[str, Any]]:
    """The reminders and escalations a phone received, once there are ``count`` of them."""
    for _ in range(200):
        found = [
            send.message
            for send in fake_fcm.received(phone)
            if send.message["data"]["type"] in ("REFERRAL_REMINDER", "REFERRAL_ESCALATION")
        ]
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{phone} got {len(found)} automated pushes, expected {count}")


async def _automation_events(socket: Any, count: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = await socket.receive(within=10)
        event = message["payload"]["data"]["events"]
        if event["__typename"] == "AutomationStepFired":
            found.append(event)
    return found


async def test_accepting_cancels_the_pending_reminder(world: World, runner: Runner) -> None:
    # given a sent ROUTINE referral whose first reminder is pending
    referral = await world.step("SEND", await world.draft(priority="ROUTINE"), world.referrer)
    reminder = (await _read(world, referral))["nextAutomatedStep"]
    assert reminder["rule"] == "RESPOND_REMINDER"
    # when the specialist accepts before it is due
    accepted = await world.step("ACCEPT", referral, world.specialist)
    # then the next step is the scheduling escalation at schedule-by, and the reminder's time
    # passes without a reminder
    step = (await _read(world, accepted))["nextAutomatedStep"]
    assert step["rule"] == "SCHEDULE_ESCALATION"
    await run_until_idle(runner, _at(reminder["dueAt"]) + timedelta(minutes=1))
    timeline = (await _read(world, accepted))["timeline"]
    assert [e for e in timeline if e["action"] in ("REMIND", "ESCALATE")] == []


async def test_needs_info_pauses_the_respond_clock_and_chases_the_referrer(
    world: World, runner: Runner
) -> None:
    # given an URGENT referral under review, asked for more information
    referral = await referral_in(world, "IN_REVIEW")
    respond_by = _at((await _read(world, referral))["respondBy"])
    asked = await world.step("REQUEST_INFO", referral, world.specialist)
    # then the referrer is reminded 8 hours later, the referring coordinators a day later
    step = await _fire_next(runner, world, asked)
    assert (step["rule"], step["audience"]) == ("INFO_REMINDER", "REFERRING_PROVIDER")
    step = await _fire_next(runner, world, asked)
    assert (step["rule"], step["audience"]) == ("INFO_ESCALATION", "REFERRING_COORDINATORS")
    # when the question stayed open for two hours and the referrer answers
    referral_id = UUID(uuid_of(asked["id"]))
    row = await Referral.select(Referral.status_changed_at).where(Referral.id == referral_id).first()
    assert row is not None
    await Referral.update({Referral.status_changed_at: row["status_changed_at"] - timedelta(hours=2)}).where(
        Referral.id == referral_id
    )
    current = await _read(world, asked)
    answered = await world.step("PROVIDE_INFO", current, world.referrer)
    # then respond-by moved by the paused time, and the respond rungs count from the new one
    moved = _at((await _read(world, answered))["respondBy"])
    assert timedelta(hours=2) <= moved - respond_by < timedelta(hours=2, minutes=1)
    step = (await _read(world, answered))["nextAutomatedStep"]
    assert step["rule"] in ("RESPOND_REMINDER", "RESPOND_ESCALATION")
    assert _at(step["deadline"]) == moved


async def test_a_routine_referral_is_chased_through_scheduling_no_show_and_the_outcome(
    world: World, runner: Runner
) -> None:
    # given an accepted ROUTINE referral
    accepted = await referral_in(world, "ACCEPTED")
    # then the receiving coordinators are chased when schedule-by passes unscheduled
    step = await _fire_next(runner, world, accepted)
    assert (step["rule"], step["audience"]) == ("SCHEDULE_ESCALATION", "RECEIVING_COORDINATORS")
    # when the visit is booked and the patient does not come
    current = await _read(world, accepted)
    scheduled = await world.step("SCHEDULE", current, world.receiving_coordinator)
    missed = await world.step("MARK_NO_SHOW", scheduled, world.receiving_coordinator)
    # then the coordinators are reminded to rebook
    step = await _fire_next(runner, world, missed)
    assert (step["rule"], step["audience"]) == ("REBOOK_REMINDER", "RECEIVING_COORDINATORS")
    # when it is rebooked and the visit happens, the specialist then the coordinators are chased
    # for the report, and the referrer sees it is owed
    current = await _read(world, missed)
    rebooked = await world.step("SCHEDULE", current, world.receiving_coordinator)
    await world.visit_time_arrives(rebooked)
    seen = await world.step("COMPLETE_VISIT", await _read(world, rebooked), world.specialist)
    owed = (await _read(world, seen, world.referrer))["pendingAutomatedSteps"]
    assert {"OUTCOME_REMINDER", "OUTCOME_ESCALATION"} <= {s["rule"] for s in owed}
    step = await _fire_next(runner, world, seen, "OUTCOME_REMINDER")
    assert step["audience"] == "RECEIVING_PROVIDER"
    step = await _fire_next(runner, world, seen, "OUTCOME_ESCALATION")
    assert step["audience"] == "RECEIVING_COORDINATORS"
    timeline = (await _read(world, seen))["timeline"]
    assert [e["reasonCode"] for e in timeline if e["action"] in ("REMIND", "ESCALATE")] == [
        "SCHEDULE_ESCALATION",
        "REBOOK_REMINDER",
        "OUTCOME_REMINDER",
        "OUTCOME_ESCALATION",
    ]


async def test_a_step_due_during_an_outage_fires_once_marked_late(world: World, runner: Runner) -> None:
    # given a STAT referral nobody answered while the service was down for a whole day
    referral = await world.step("SEND", await world.draft(priority="STAT"), world.referrer)
    respond_by = _at((await _read(world, referral))["respondBy"])
    # when the runner comes back long after every respond rung was due
    await run_until_idle(runner, respond_by + timedelta(days=1))
    # then only the latest rung fired, once, marked late; the earlier ones were superseded
    timeline = (await _read(world, referral))["timeline"]
    automated = [e for e in timeline if e["action"] in ("REMIND", "ESCALATE")]
    assert [e["reasonCode"] for e in automated] == ["RESPOND_MANAGER_ESCALATION"]
    assert "sent late" in automated[0]["note"]
    # and a second pass fires nothing more
    await run_until_idle(runner, respond_by + timedelta(days=1, minutes=1))
    timeline = (await _read(world, referral))["timeline"]
    assert len([e for e in timeline if e["action"] in ("REMIND", "ESCALATE")]) == 1
