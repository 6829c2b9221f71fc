"""End to end through the real firebase-admin library and the fake FCM: who gets which push."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.graphql_ids import global_id
from tests.support.messaging import CONVERSATION_EVENTS, START, Chat, referral_chat
from tests.support.push import SETTINGS, assert_valid, new_token, register, wait_for
from tests.support.referrals import Person, World, referral_in
from tests.support.ws import EVENTS, connect
from tools.fake_fcm import FakeFcm


async def _devices(world: World, person: Person, count: int = 1) -> list[str]:
    """Sign ``person`` in on ``count`` devices, each registering its own token."""
    tokens = []
    for number in range(count):
        session = await world.api.login(person.user.email, person.user.password, device_id=f"phone-{number}")
        token = new_token()
        await register(world.api, session.access, token, platform="IOS" if number % 2 == 0 else "ANDROID")
        tokens.append(token)
    return tokens


async def test_a_referral_sent_to_an_offline_specialist_reaches_each_device_once(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given a specialist with two devices, offline, and a referrer with one
    specialist_tokens = await _devices(world, world.specialist, 2)
    [referrer_token] = await _devices(world, world.referrer)
    referral = await world.draft(priority="STAT")

    # when the referrer sends the referral
    sent = await world.step("SEND", referral, world.referrer)

    # then each specialist device gets exactly one push, valid against the contract's schema,
    # actionable (Accept / Decline / Open), high priority, collapsing per referral
    for token in specialist_tokens:
        [push] = await wait_for(fake_fcm, token)
        assert push.delivered
        message = push.message
        assert_valid(message)
        assert message["data"]["type"] == "REFERRAL_RECEIVED"
        assert message["data"]["referralId"] == sent["id"]
        assert message["apns"]["payload"]["aps"]["category"] == "REFERRAL_DECISION"
        assert message["data"]["actions"] == "ACCEPT,DECLINE,OPEN"
        assert message["android"]["priority"] == "high"
        assert message["apns"]["headers"]["apns-collapse-id"] == message["android"]["collapse_key"]
    # and the referrer gets nothing for their own action
    await asyncio.sleep(0.8)
    assert fake_fcm.received(referrer_token) == []
    assert [len(fake_fcm.received(t)) for t in specialist_tokens] == [1, 1]

    # when the specialist accepts, the referrer is told (not actionable), the specialist is not
    await world.step("ACCEPT", sent, world.specialist)
    [update] = await wait_for(fake_fcm, referrer_token)
    assert_valid(update.message)
    assert (update.message["data"]["type"], update.message["data"]["status"]) == (
        "REFERRAL_UPDATED",
        "ACCEPTED",
    )
    assert "category" not in update.message["apns"]["payload"]["aps"]
    await asyncio.sleep(0.8)
    assert [len(fake_fcm.received(t)) for t in specialist_tokens] == [1, 1]


async def test_a_message_pushes_the_offline_member_but_not_one_who_received_it_live(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given a referral chat; the specialist is offline, the receiving coordinator is connected live
    referral = await referral_in(world, "SENT")
    chat = await referral_chat(world, referral)
    [specialist_token] = await _devices(world, world.specialist)
    coordinator = await world.api.login(
        world.receiving_coordinator.user.email, world.receiving_coordinator.user.password, device_id="desk"
    )
    coordinator_token = new_token()
    await register(world.api, coordinator.access, coordinator_token)
    async with connect(world.api.server.ws_url, coordinator.access) as socket:
        await socket.subscribe("c", CONVERSATION_EVENTS, {"after": 0, "conversationId": chat.id})
        await socket.nothing_more(0.2)
        # when the referrer sends a message
        sent = await chat.send(world.referrer, "Please see the attached echo")
        [event] = await socket.events(1)
        assert event["messageId"] == sent["id"]
        # then the offline specialist gets a "new secure message" push with ids only
        [push] = await wait_for(fake_fcm, specialist_token)
        assert_valid(push.message)
        assert push.message["data"] == {
            "type": "NEW_MESSAGE",
            "pushId": push.message["data"]["pushId"],
            "conversationId": chat.id,
            "messageId": sent["id"],
            "messageSequence": "1",
        }
        assert push.message["notification"] == {"title": "New secure message"}
        # and the live coordinator's device gets none
        await asyncio.sleep(1.0)
        assert fake_fcm.received(coordinator_token) == []


async def test_preferences_quiet_hours_and_stat_breakthrough(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given a specialist who switched referral pushes off, and one in quiet hours all day long
    [muted_token] = await _devices(world, world.specialist)
    [quiet_token] = await _devices(world, world.second_specialist)
    muted = await world.api.data(
        SETTINGS, {"input": {"referralUpdates": False}}, token=world.specialist.token
    )
    assert muted["updatePushSettings"]["settings"]["referralUpdates"] is False
    quiet = await world.api.data(
        SETTINGS,
        {"input": {"timeZone": "America/Chicago", "quietStart": "00:00", "quietEnd": "23:59"}},
        token=world.second_specialist.token,
    )
    assert quiet["updatePushSettings"]["settings"]["quietStart"] == "00:00"
    # when routine referrals are sent to each
    await world.step("SEND", await world.draft(priority="ROUTINE"), world.referrer)
    await world.step(
        "SEND",
        await world.draft(priority="ROUTINE", receivingProviderId=world.second_specialist_gid),
        world.referrer,
    )
    await asyncio.sleep(1.0)
    # then neither is pushed
    assert fake_fcm.received(muted_token) == []
    assert fake_fcm.received(quiet_token) == []
    # but a STAT referral breaks through quiet hours (not a switched-off category)
    await world.step(
        "SEND",
        await world.draft(priority="STAT", receivingProviderId=world.second_specialist_gid),
        world.referrer,
    )
    [push] = await wait_for(fake_fcm, quiet_token)
    assert push.message["data"]["priority"] == "STAT"
    await world.step("SEND", await world.draft(priority="STAT"), world.referrer)
    await asyncio.sleep(1.0)
    assert fake_fcm.received(muted_token) == []


async def test_a_device_connected_live_to_the_referral_stream_is_not_pushed(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    session = await world.api.login(
        world.specialist.user.email, world.specialist.user.password, device_id="tablet"
    )
    token = new_token()
    await register(world.api, session.access, token)
    async with connect(world.api.server.ws_url, session.access) as socket:
        await socket.subscribe("e", EVENTS, {"after": 0})
        await socket.nothing_more(0.2)
        await world.step("SEND", await world.draft(), world.referrer)
        assert (await socket.events(1))[0]["status"] == "SENT"
        await asyncio.sleep(1.0)
    assert fake_fcm.received(token) == []


async def test_concurrent_sends_share_one_oauth_token_refresh(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given a fresh dispatcher (no OAuth token yet) and a specialist with six devices, offline
    tokens = await _devices(world, world.specialist, 6)
    issued_before = len(fake_fcm.issued_tokens())

    # when one referral sends a push to every device at once
    await world.step("SEND", await world.draft(), world.referrer)

    # then every device gets its push, and the sender fetched a single token for all of them
    for token in tokens:
        [push] = await wait_for(fake_fcm, token)
        assert push.delivered
    assert len(fake_fcm.issued_tokens()) - issued_before == 1


async def test_sends_reuse_kept_alive_connections(world: World, fake_fcm: FakeFcm, dispatcher: Any) -> None:
    # given a specialist with six devices, offline
    tokens = await _devices(world, world.specialist, 6)

    # when three referrals are sent one after another, each pushing all six devices at once
    for sent in range(1, 4):
        await world.step("SEND", await world.draft(), world.referrer)
        for token in tokens:
            await wait_for(fake_fcm, token, count=sent)

    # then the eighteen sends share the connections the first six opened (at most one per send in
    # flight, plus two for an idle connection expiring on a slow machine; without reuse: ~16)
    sends = [push for token in tokens for push in fake_fcm.received(token)]
    assert len(sends) == 18 and all(push.delivered for push in sends)
    assert len({push.connection for push in sends}) <= 6 + 2


async def test_message_pushes_count_the_recipients_unread_messages_in_the_badge(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given a direct conversation whose other member is offline with an iPhone (and one referral
    # sent to them, waiting for their decision: it counts 1 in every badge below)
    await referral_in(world, "SENT")
    started = await world.api.data(
        START,
        {"input": {"kind": "DIRECT", "memberIds": [global_id("User", world.specialist.user.id)]}},
        token=world.referrer.token,
    )
    chat = Chat(world, started["startConversation"]["conversation"])
    [token] = await _devices(world, world.specialist)
    # when the referrer sends two messages
    await chat.send(world.referrer, "First")
    await chat.send(world.referrer, "Second")
    # then the pushes count them: 1, then 2 (plus the waiting referral)
    pushes = await wait_for(fake_fcm, token, 2)
    assert sorted(p.message["apns"]["payload"]["aps"]["badge"] for p in pushes) == [1 + 1, 2 + 1]
    # and once the specialist has read both, the next one counts 1 again
    await chat.mark(world.specialist, readUpTo=2)
    await chat.send(world.referrer, "Third")
    third = (await wait_for(fake_fcm, token, 3))[-1]
    assert third.message["apns"]["payload"]["aps"]["badge"] == 1 + 1


async def test_referral_pushes_count_the_referrals_waiting_for_the_recipient_in_the_badge(
    world: World, fake_fcm: FakeFcm, dispatcher: Any
) -> None:
    # given an offline specialist and an offline referrer, each with a phone, and no messages
    [specialist_token] = await _devices(world, world.specialist)
    [referrer_token] = await _devices(world, world.referrer)
    # when the referrer sends two referrals to the specialist
    first = await world.step("SEND", await world.draft(), world.referrer)
    await world.step("SEND", await world.draft(), world.referrer)
    # then the specialist's pushes count the referrals waiting for their decision: 1, then 2 (a
    # badge of 0 would clear the app icon's count when a referral arrives)
    pushes = await wait_for(fake_fcm, specialist_token, 2)
    assert sorted(p.message["apns"]["payload"]["aps"]["badge"] for p in pushes) == [1, 2]
    assert sorted(p.message["android"]["notification"]["notification_count"] for p in pushes) == [1, 2]
    # when the specialist asks the referrer for more information on the first
    await world.step("REQUEST_INFO", first, world.specialist, note="Latest echo, please")
    # then the referrer's push counts the referral now waiting for them
    [update] = await wait_for(fake_fcm, referrer_token)
    assert update.message["data"]["status"] == "NEEDS_INFO"
    assert update.message["apns"]["payload"]["aps"]["badge"] == 1
