"""Who may see a conversation: the referral's parties and staff, or a direct/group's members."""

from __future__ import annotations

import uuid

from tests.support.graphql_ids import global_id
from tests.support.messaging import (
    ADD_MEMBERS,
    CONVERSATION_EVENTS,
    CONVERSATIONS,
    LEAVE,
    REFERRAL_CONVERSATION,
    SEND,
    START,
    TYPING_INDICATORS,
    client_id,
    referral_chat,
)
from tests.support.referrals import Person, World, referral_in
from tests.support.ws import connect


def _gid(person: Person) -> str:
    return global_id("User", person.user.id)


async def _listed(world: World, person: Person) -> list[str]:
    data = await world.api.data(CONVERSATIONS, {"first": 50}, token=person.token)
    return [edge["node"]["id"] for edge in data["conversations"]["edges"]]


async def test_a_referral_conversation_has_its_parties_and_both_sides_staff_as_members(world: World) -> None:
    # given a sent referral
    referral = await referral_in(world, "SENT")
    # when the referrer opens its conversation
    chat = await referral_chat(world, referral)
    # then its members are the parties and the coordinators and managers of both organizations
    members = {m["userId"] for m in chat.conversation["members"]}
    expected = [
        world.referrer,
        world.referring_coordinator,
        world.specialist,
        world.receiving_coordinator,
        world.receiving_manager,
    ]
    assert members == {_gid(p) for p in expected}
    assert chat.conversation["kind"] == "REFERRAL"
    assert chat.conversation["referralId"] == referral["id"]
    # and every member lists it, and sees the same conversation
    for person in expected:
        assert chat.id in await _listed(world, person)
        assert (await chat.read(person) or {}).get("id") == chat.id


async def test_a_non_member_cannot_list_read_send_to_subscribe_to_or_learn_of_a_conversation(
    world: World,
) -> None:
    # given a referral's conversation with one message
    referral = await referral_in(world, "SENT")
    chat = await referral_chat(world, referral)
    await chat.send(world.referrer, "Hello from the referrer")
    missing = global_id("Conversation", uuid.uuid4())
    # when people of another organization, or of the same one but not party to it, try
    for outsider in (
        world.outsider_coordinator,
        world.outsider_specialist,
        world.colleague,
        world.second_specialist,
    ):
        # then it is not listed, reads as absent, and answers like a conversation that does not exist
        assert chat.id not in await _listed(world, outsider)
        assert await chat.read(outsider) is None
        data = await world.api.data(
            REFERRAL_CONVERSATION, {"referralId": referral["id"]}, token=outsider.token
        )
        assert data["referralConversation"] is None
        answers = []
        for conversation_id in (chat.id, missing):
            result = await world.api.data(
                SEND,
                {"input": {"conversationId": conversation_id, "clientMessageId": client_id(), "body": "hi"}},
                token=outsider.token,
            )
            answers.append(result["sendMessage"])
        assert answers[0] == answers[1]
        assert answers[0]["code"] == "NOT_FOUND"
        async with connect(world.api.server.ws_url, outsider.token) as socket:
            replies = []
            for operation_id, (query, variables) in enumerate(
                [
                    (CONVERSATION_EVENTS, {"after": 0, "conversationId": chat.id}),
                    (CONVERSATION_EVENTS, {"after": 0, "conversationId": missing}),
                    (TYPING_INDICATORS, {"conversationId": chat.id}),
                ]
            ):
                await socket.subscribe(str(operation_id), query, variables)
                message = await socket.receive()
                replies.append((message["type"], message["payload"][0]["extensions"]["code"]))
            assert replies == [("error", "NOT_FOUND")] * 3
    # and the message is still the only one
    assert [e["node"]["body"] for e in (await chat.messages(world.referrer))["edges"]] == [
        "Hello from the referrer"
    ]


async def test_removing_a_party_from_the_referral_removes_their_chat_access_at_once(world: World) -> None:
    # given a referral routed to the specialist by the receiving coordinator, and its conversation
    referral = await world.draft(
        receivingProviderId=None, receivingOrganizationId=global_id("Organization", world.receiving_org)
    )
    referral = await world.step("SEND", referral, world.referrer)
    referral = await world.step(
        "ROUTE", referral, world.receiving_coordinator, providerId=world.specialist_gid
    )
    chat = await referral_chat(world, referral)
    assert await chat.read(world.specialist) is not None
    async with connect(world.api.server.ws_url, world.specialist.token) as socket:
        await socket.subscribe("chat", CONVERSATION_EVENTS, {"after": 0, "conversationId": chat.id})
        await socket.nothing_more(0.3)
        # when the coordinator routes the referral to another specialist
        await world.step(
            "ROUTE", referral, world.receiving_coordinator, providerId=world.second_specialist_gid
        )
        # then the first specialist's subscription ends with NOT_FOUND, and the API forgets the chat
        message = await socket.receive()
        assert (message["type"], message["payload"][0]["extensions"]["code"]) == ("error", "NOT_FOUND")
    assert await chat.read(world.specialist) is None
    assert (await chat.send_result(world.specialist, "still here?"))["code"] == "NOT_FOUND"
    assert await chat.read(world.second_specialist) is not None


async def test_direct_conversations_open_only_between_related_providers(world: World) -> None:
    # given a sent referral between the two organizations (the specialist is in the referrer's network)
    await referral_in(world, "SENT")
    # when the referrer starts a direct conversation with the specialist, and one with an outsider
    started = await world.api.data(
        START,
        {"input": {"kind": "DIRECT", "memberIds": [_gid(world.specialist)]}},
        token=world.referrer.token,
    )
    refused = await world.api.data(
        START,
        {"input": {"kind": "DIRECT", "memberIds": [_gid(world.outsider_specialist)]}},
        token=world.referrer.token,
    )
    # then the first opens with both as members, the second is refused with a code
    conversation = started["startConversation"]["conversation"]
    assert {m["userId"] for m in conversation["members"]} == {_gid(world.referrer), _gid(world.specialist)}
    assert refused["startConversation"]["code"] == "MEMBER_NOT_REACHABLE"
    # and only its members see it
    assert conversation["id"] in await _listed(world, world.specialist)
    assert conversation["id"] not in await _listed(world, world.receiving_coordinator)


async def test_a_group_needs_a_title_and_members(world: World) -> None:
    result = await world.api.data(
        START,
        {"input": {"kind": "GROUP", "memberIds": [_gid(world.colleague)], "title": ""}},
        token=world.referrer.token,
    )
    assert result["startConversation"]["__typename"] == "InputError"
    assert [e["field"] for e in result["startConversation"]["fieldErrors"]] == ["title"]


async def test_group_members_can_be_added_and_a_member_who_leaves_loses_access_at_once(world: World) -> None:
    # given a group of the referrer and a colleague
    started = await world.api.data(
        START,
        {"input": {"kind": "GROUP", "title": "Cardiology huddle", "memberIds": [_gid(world.colleague)]}},
        token=world.referrer.token,
    )
    group = started["startConversation"]["conversation"]
    # when the referrer adds the referring coordinator
    added = await world.api.data(
        ADD_MEMBERS,
        {"input": {"conversationId": group["id"], "memberIds": [_gid(world.referring_coordinator)]}},
        token=world.referrer.token,
    )
    members = {m["userId"] for m in added["addConversationMembers"]["conversation"]["members"]}
    assert members == {_gid(world.referrer), _gid(world.colleague), _gid(world.referring_coordinator)}
    # and the colleague, subscribed to it, leaves
    async with connect(world.api.server.ws_url, world.colleague.token) as socket:
        await socket.subscribe("g", CONVERSATION_EVENTS, {"after": 0, "conversationId": group["id"]})
        await socket.events(2)  # CREATED, MEMBERS
        left = await world.api.data(
            LEAVE, {"input": {"conversationId": group["id"]}}, token=world.colleague.token
        )
        assert left["leaveConversation"]["__typename"] == "LeaveConversationSuccess"
        # then their subscription ends with NOT_FOUND and the group is gone for them
        message = await socket.receive()
        assert (message["type"], message["payload"][0]["extensions"]["code"]) == ("error", "NOT_FOUND")
    assert group["id"] not in await _listed(world, world.colleague)
    # and nobody can leave a referral's conversation: it follows the referral
    chat = await referral_chat(world, await referral_in(world, "SENT"))
    refused = await world.api.data(LEAVE, {"input": {"conversationId": chat.id}}, token=world.referrer.token)
    assert refused["leaveConversation"]["code"] == "NOT_PERMITTED"
