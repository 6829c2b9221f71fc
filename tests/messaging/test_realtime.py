"""Two real clients over GraphQL and WebSocket: messages, receipts, unread counts, typing,
recall and expiry arrive live, in order, and resume from the stream position."""

from __future__ import annotations

from tests.support.graphql_ids import global_id
from tests.support.messaging import (
    CONVERSATION_EVENTS,
    RECALL,
    REFERRAL_CONVERSATION,
    RETENTION,
    TYPING,
    TYPING_INDICATORS,
    Chat,
)
from tests.support.referrals import World, referral_in
from tests.support.ws import EVENTS, STREAM_POSITION, connect


async def _position(world: World, token: str) -> int:
    return int((await world.api.data(STREAM_POSITION, token=token))["streamPosition"])


async def _chat_and_position(world: World) -> tuple[Chat, int, int]:
    referral = await referral_in(world, "SENT")
    data = await world.api.data(
        REFERRAL_CONVERSATION, {"referralId": referral["id"]}, token=world.referrer.token
    )
    return (
        Chat(world, data["referralConversation"]),
        data["streamPosition"],
        await _position(world, world.specialist.token),
    )


async def _set_retention(world: World, chat: Chat, seconds: int | None) -> None:
    variables = {"input": {"conversationId": chat.id, "retentionSeconds": seconds}}
    data = await world.api.data(RETENTION, variables, token=world.referrer.token)
    assert data["setConversationRetention"]["conversation"]["retentionSeconds"] == seconds


async def test_a_message_its_receipts_and_unread_counts_flow_between_two_clients(world: World) -> None:
    # given the referrer and the specialist, each subscribed to the conversation from their position
    chat, referrer_after, specialist_after = await _chat_and_position(world)
    url = world.api.server.ws_url
    async with (
        connect(url, world.referrer.token) as referrer,
        connect(url, world.specialist.token) as specialist,
    ):
        await referrer.subscribe(
            "c", CONVERSATION_EVENTS, {"after": referrer_after, "conversationId": chat.id}
        )
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        await specialist.nothing_more(0.2)

        # when the referrer sends a priority message
        sent = await chat.send(world.referrer, "Did you get the MRI?", isPriority=True)

        # then the specialist's client hears of it (ids only) and counts it unread
        [event] = await specialist.events(1)
        assert event["__typename"] == "MessageSent"
        assert (event["messageId"], event["messageSequence"], event["isPriority"]) == (sent["id"], 1, True)
        assert event["senderId"] == global_id("User", world.referrer.user.id)
        assert (await chat.read(world.specialist) or {})["unreadCount"] == 1
        assert [r["status"] for r in sent["receipts"]] == ["SENT"] * 4

        # when the specialist's app acknowledges delivery, then reads it
        await chat.mark(world.specialist, deliveredUpTo=1)
        delivered_event = (await referrer.events(2))[1]
        assert delivered_event["__typename"] == "ReadStateChanged"
        assert (delivered_event["deliveredUpTo"], delivered_event["readUpTo"]) == (1, 0)
        read = await chat.mark(world.specialist, readUpTo=1)
        [read_event] = await referrer.events(1)

        # then the referrer sees delivered, then read, for the specialist only
        assert (read_event["userId"], read_event["readUpTo"]) == (
            global_id("User", world.specialist.user.id),
            1,
        )
        assert read["conversation"]["unreadCount"] == 0
        page = await chat.messages(world.referrer, last=1)
        receipts = {r["userId"]: r["status"] for r in page["edges"][0]["node"]["receipts"]}
        assert receipts.pop(global_id("User", world.specialist.user.id)) == "READ"
        assert set(receipts.values()) == {"SENT"}
        # and markers never move back
        again = await chat.mark(world.specialist, readUpTo=0, deliveredUpTo=0)
        assert again["conversation"]["readUpTo"] == 1


async def test_a_client_that_reconnects_resumes_without_loss_or_duplicates(world: World) -> None:
    chat, _, specialist_after = await _chat_and_position(world)
    url = world.api.server.ws_url
    async with connect(url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        await chat.send(world.referrer, "one")
        [first] = await specialist.events(1)
    # while the specialist is offline, two more messages arrive
    await chat.send(world.referrer, "two")
    await chat.send(world.referrer, "three")
    async with connect(url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": first["sequence"]})
        missed = await specialist.events(2)
        await specialist.nothing_more()
    assert [e["messageSequence"] for e in missed] == [2, 3]


async def test_chat_events_stay_out_of_the_referral_stream(world: World) -> None:
    chat, _, specialist_after = await _chat_and_position(world)
    async with connect(world.api.server.ws_url, world.specialist.token) as specialist:
        await specialist.subscribe("r", EVENTS, {"after": specialist_after})
        await chat.send(world.referrer, "not a referral event")
        await specialist.nothing_more()


async def test_typing_reaches_the_others_live_and_is_never_replayed(world: World) -> None:
    chat, _, specialist_after = await _chat_and_position(world)
    url = world.api.server.ws_url
    async with (
        connect(url, world.specialist.token) as specialist,
        connect(url, world.referrer.token) as referrer,
    ):
        await specialist.subscribe("t", TYPING_INDICATORS, {"conversationId": chat.id})
        await referrer.subscribe("t", TYPING_INDICATORS, {"conversationId": chat.id})
        await specialist.nothing_more(0.2)
        # when the referrer starts typing
        result = await world.api.data(
            TYPING, {"input": {"conversationId": chat.id, "isTyping": True}}, token=world.referrer.token
        )
        assert result["setTyping"]["__typename"] == "TypingSuccess"
        # then the specialist sees it, the typist does not
        [indicator] = await specialist.events(1)
        assert (indicator["userId"], indicator["isTyping"]) == (
            global_id("User", world.referrer.user.id),
            True,
        )
        await referrer.nothing_more()
    # and nothing was stored: a resumed conversation stream has no trace of it
    async with connect(url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        await specialist.nothing_more()


async def test_a_recall_reaches_every_member_and_leaves_a_tombstone(world: World) -> None:
    chat, _, specialist_after = await _chat_and_position(world)
    sent = await chat.send(world.referrer, "Meant for another patient")
    async with connect(world.api.server.ws_url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        assert (await specialist.events(1))[0]["__typename"] == "MessageSent"
        await world.api.data(RECALL, {"input": {"messageId": sent["id"]}}, token=world.referrer.token)
        [recalled] = await specialist.events(1)
    assert (recalled["__typename"], recalled["messageId"]) == ("MessageRecalled", sent["id"])
    [tombstone] = [e["node"] for e in (await chat.messages(world.specialist, last=5))["edges"]]
    assert (tombstone["state"], tombstone["body"], tombstone["recalledAt"] is not None) == (
        "RECALLED",
        None,
        True,
    )
    assert (await chat.read(world.specialist) or {})["unreadCount"] == 0


async def test_messages_expire_after_the_conversation_retention_and_everyone_is_told(world: World) -> None:
    # given a conversation keeping messages one second
    chat, _, specialist_after = await _chat_and_position(world)
    await _set_retention(world, chat, 1)
    async with connect(world.api.server.ws_url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        assert (await specialist.events(1))[0]["change"] == "RETENTION"
        # when a message is sent and its time passes
        sent = await chat.send(world.referrer, "Short-lived words")
        assert sent["expiresAt"] is not None
        kinds = [e["__typename"] for e in await specialist.events(2, within=10)]
    # then the specialist heard it arrive and expire, and only a tombstone remains
    assert kinds == ["MessageSent", "MessageExpired"]
    [tombstone] = [e["node"] for e in (await chat.messages(world.specialist, last=5))["edges"]]
    assert (tombstone["state"], tombstone["body"]) == ("EXPIRED", None)
    # and a reply to it is refused
    refused = await chat.send_result(world.specialist, "Reply", replyToId=sent["id"])
    assert refused["code"] == "MESSAGE_UNAVAILABLE"


async def test_a_retention_set_later_reaches_messages_already_sent(world: World) -> None:
    # given a conversation without retention, holding one message, and another sent into it later
    chat, _, specialist_after = await _chat_and_position(world)
    early = await chat.send(world.referrer, "Sent before any retention")
    assert early["expiresAt"] is None
    async with connect(world.api.server.ws_url, world.specialist.token) as specialist:
        await specialist.subscribe("c", CONVERSATION_EVENTS, {"after": specialist_after})
        assert [e["__typename"] for e in await specialist.events(1)] == ["MessageSent"]
        # when the referrer sets a one-second retention
        await _set_retention(world, chat, 1)
        # then the earlier message expires a second after it was sent, and everyone is told
        kinds = [e["__typename"] for e in await specialist.events(2, within=10)]
    assert kinds == ["ConversationChanged", "MessageExpired"]
    [tombstone] = [e["node"] for e in (await chat.messages(world.specialist, last=5))["edges"]]
    assert (tombstone["id"], tombstone["state"], tombstone["body"]) == (early["id"], "EXPIRED", None)


async def test_removing_retention_keeps_the_live_messages(world: World) -> None:
    # given a message sent under a one-hour retention
    chat, _, _ = await _chat_and_position(world)
    await _set_retention(world, chat, 3600)
    sent = await chat.send(world.referrer, "Kept after all")
    assert sent["expiresAt"] is not None
    # when the retention is removed
    await _set_retention(world, chat, None)
    # then the message no longer expires
    [kept] = [e["node"] for e in (await chat.messages(world.specialist, last=5))["edges"]]
    assert (kept["id"], kept["state"], kept["expiresAt"]) == (sent["id"], "ACTIVE", None)
