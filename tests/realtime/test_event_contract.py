"""Every event the apps receive (referral, conversation, typing) matches its JSON Schema in
mobile_contract/events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from tests.support.referrals import World, referral_in
from tests.test_contract import with_fragments

CONTRACT = Path(__file__).resolve().parents[2] / "mobile_contract"
SCHEMAS = {
    path.name.removesuffix(".schema.json"): json.loads(path.read_text())
    for path in (CONTRACT / "events").glob("*.json")
}
REFERRAL_TYPES = {
    "ReferralCreated",
    "ReferralStatusChanged",
    "ReferralUpdated",
    "AppointmentChanged",
    "DocumentAdded",
}
AUTOMATION_TYPES = {"AutomationStepFired"}


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
    assert {e["__typename"] for e in events} == REFERRAL_TYPES


async def test_conversation_events_and_typing_indicators_match_the_published_schemas(world: World) -> None:
    from tests.support.messaging import RECALL, RETENTION, TYPING, Chat, referral_chat
    from tests.support.ws import connect

    # given a referral chat, and the specialist subscribed with the contract's own operations
    chat: Chat = await referral_chat(world, await referral_in(world, "SENT"))
    events_query = with_fragments((CONTRACT / "operations" / "ConversationEvents.graphql").read_text())
    typing_query = with_fragments((CONTRACT / "operations" / "TypingIndicators.graphql").read_text())
    async with connect(world.api.server.ws_url, world.specialist.token) as socket:
        await socket.subscribe("chat", events_query, {"after": 0, "conversationId": chat.id})
        await socket.subscribe("typing", typing_query, {"conversationId": chat.id})
        await socket.nothing_more(0.2)
        # when someone types, a message is sent, read and recalled, and one expires
        await world.api.data(
            TYPING, {"input": {"conversationId": chat.id, "isTyping": True}}, token=world.referrer.token
        )
        first = await chat.send(world.referrer, "one")
        await chat.mark(world.specialist, readUpTo=1)
        recalled = await world.api.data(
            RECALL, {"input": {"messageId": first["id"]}}, token=world.referrer.token
        )
        assert recalled["recallMessage"]["__typename"] == "MessageSuccess"
        await world.api.data(
            RETENTION,
            {"input": {"conversationId": chat.id, "retentionSeconds": 1}},
            token=world.referrer.token,
        )
        await chat.send(world.referrer, "two")
        events = await socket.events(7, within=10)
    # then each validates against the schema of its type, and every type was seen
    for event in events:
        jsonschema.validate(event, SCHEMAS[event["__typename"]], format_checker=jsonschema.FormatChecker())
    assert {e["__typename"] for e in events} == set(SCHEMAS) - REFERRAL_TYPES - AUTOMATION_TYPES


async def test_an_automated_step_matches_its_published_schema(world: World, live_server: Any) -> None:
    from datetime import UTC, datetime, timedelta
    from uuid import UUID

    from backend.automation.runner import Runner
    from backend.automation.tables import AutomationStep
    from tests.support.graphql_ids import uuid_of
    from tests.support.ws import connect

    # given the receiving coordinator subscribed with the contract's own operation
    query = with_fragments((CONTRACT / "operations" / "Events.graphql").read_text())
    async with connect(world.api.server.ws_url, world.receiving_coordinator.token) as socket:
        await socket.subscribe("feed", query, {"after": 0})
        # when a sent referral's respond-by passes and the ladder escalates
        sent = await referral_in(world, "SENT")
        await socket.events(1)
        await AutomationStep.update({AutomationStep.due_at: datetime.now(UTC) - timedelta(seconds=1)}).where(
            (AutomationStep.referral == UUID(uuid_of(sent["id"])))
            & (AutomationStep.rule == "RESPOND_ESCALATION")
        )
        await Runner(live_server.container.database).run_once(now=datetime.now(UTC))
        [event] = await socket.events(1)
    # then the event validates against its schema
    jsonschema.validate(event, SCHEMAS["AutomationStepFired"], format_checker=jsonschema.FormatChecker())
    assert (event["rule"], event["action"], event["late"]) == ("RESPOND_ESCALATION", "ESCALATE", False)
