"""Domain events: subscribers run inside the transaction or after its commit, as declared, and a
rolled-back unit of work reaches no after-commit subscriber; the app's wiring subscribes the
stream writer, the push decider and messaging to what the domains emit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from backend.accounts.tables import Organization
from backend.core.events import DomainEvent, Phase, Subscribers, emit
from backend.db import Database
from backend.messaging.events import MessageSent
from backend.referrals.events import ReferralChanged
from backend.wiring import build_subscribers
from tests.conftest import LiveServer


@dataclass(frozen=True, slots=True, kw_only=True)
class ClinicOpened(DomainEvent):
    name: str


async def test_subscribers_run_in_the_transaction_or_after_commit_as_declared(
    live_server: LiveServer,
) -> None:
    # given a database whose subscribers record what they see, and whether the row is visible
    calls: list[str] = []
    subscribers = Subscribers()

    async def inside(event: ClinicOpened) -> None:
        calls.append(f"inside:{event.name}")

    async def after(event: ClinicOpened) -> None:
        exists = await Organization.exists().where(Organization.name == event.name)
        calls.append(f"after:{event.name}:{'committed' if exists else 'missing'}")

    subscribers.subscribe(ClinicOpened, inside, phase=Phase.IN_TRANSACTION)
    subscribers.subscribe(ClinicOpened, after, phase=Phase.AFTER_COMMIT)
    database = Database(live_server.container.database.engine, live_server.container.settings, subscribers)

    # when one unit of work commits and another rolls back, each having emitted
    async with database.unit_of_work():
        await Organization(name="Evented Clinic", kind="CLINIC").save()
        await emit(ClinicOpened(name="Evented Clinic"))
        calls.append("body done")

    async def failing() -> None:
        async with database.unit_of_work():
            await emit(ClinicOpened(name="Rolled Back Evented Clinic"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing()

    # then the in-transaction subscriber ran at emit, the after-commit one only for the commit
    assert calls == [
        "inside:Evented Clinic",
        "body done",
        "after:Evented Clinic:committed",
        "inside:Rolled Back Evented Clinic",
    ]


def test_the_wiring_subscribes_every_delivery_subsystem() -> None:
    # given the app's wiring / when it is built
    subscribers = build_subscribers()
    # then a referral change reaches messaging, automation, the stream writer and push, in
    # that order and inside the transaction; a sent message the stream writer and push
    referral_handlers = subscribers.handlers(ReferralChanged)
    assert [handler.__module__ for _, handler in referral_handlers] == [
        "backend.messaging.subscribers",
        "backend.automation.planner",
        "backend.realtime.subscribers",
        "backend.push.subscribers",
    ]
    assert {phase for phase, _ in referral_handlers} == {Phase.IN_TRANSACTION}
    assert [handler.__module__ for _, handler in subscribers.handlers(MessageSent)] == [
        "backend.realtime.subscribers",
        "backend.push.subscribers",
    ]
