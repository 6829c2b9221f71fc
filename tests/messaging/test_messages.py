"""Sending and reading messages: idempotency, limits, replies, recall, paging, attachments."""

from __future__ import annotations

import base64

from backend.messaging.tables import Message, MessageAttachment
from tests.support.graphql_ids import uuid_of
from tests.support.messaging import ATTACHMENT, RECALL, SEND, Chat, attachment, referral_chat
from tests.support.referrals import World, referral_in


async def _chat(world: World) -> Chat:
    return await referral_chat(world, await referral_in(world, "SENT"))


async def _stored(chat: Chat) -> tuple[int, int]:
    conversation = uuid_of(chat.id)
    messages = await Message.count().where(Message.conversation == conversation)
    attachments = await MessageAttachment.count().where(MessageAttachment.conversation == conversation)
    return messages, attachments


async def test_sending_the_same_client_message_id_twice_stores_one_message(world: World) -> None:
    # given a conversation
    chat = await _chat(world)
    payload = {
        "conversationId": chat.id,
        "clientMessageId": "retry-0001-abcdef",
        "body": "Did you get the MRI?",
    }
    # when the same send is retried
    first = await world.api.data(SEND, {"input": payload}, token=world.referrer.token)
    second = await world.api.data(SEND, {"input": payload}, token=world.referrer.token)
    # then both answers are the same message, stored once
    assert first["sendMessage"]["chatMessage"]["id"] == second["sendMessage"]["chatMessage"]["id"]
    assert await _stored(chat) == (1, 0)
    assert (await chat.read(world.referrer) or {})["lastSequence"] == 1
    # and a different message under the same id is refused, not silently dropped
    reused = await world.api.data(
        SEND, {"input": {**payload, "body": "Another text"}}, token=world.referrer.token
    )
    assert (reused["sendMessage"]["code"], reused["sendMessage"]["field"]) == (
        "CLIENT_MESSAGE_ID_REUSED",
        "clientMessageId",
    )
    assert await _stored(chat) == (1, 0)


async def test_bad_input_gets_typed_errors_and_writes_nothing(world: World) -> None:
    # given a conversation
    chat = await _chat(world)
    cases = {
        "body": {"body": "x" * 4001},
        "attachments[0].mediaType": {
            "attachments": [attachment("run.exe", b"MZ", "application/x-msdownload")]
        },
        "attachments[0].content": {
            "attachments": [attachment("big.pdf", b"%" * (512 * 1024 + 1), "application/pdf")]
        },
        "attachments[0].contentBase64": {
            "attachments": [{"filename": "a.txt", "mediaType": "text/plain", "contentBase64": "not base64!"}]
        },
        "clientMessageId": {"clientMessageId": "short"},
    }
    for field, extra in cases.items():
        # when a message breaks one limit
        result = await chat.send_result(world.referrer, extra.pop("body", "hello"), **extra)
        # then the answer names the field, and nothing was stored
        assert result["__typename"] == "InputError", (field, result)
        assert field in [e["field"] for e in result["fieldErrors"]], (field, result)
    assert await _stored(chat) == (0, 0)
    assert (await chat.read(world.referrer) or {})["lastSequence"] == 0


async def test_replying_to_a_recalled_message_is_refused_and_writes_nothing(world: World) -> None:
    # given a message its sender recalled
    chat = await _chat(world)
    sent = await chat.send(world.referrer, "Wrong patient, sorry")
    recalled = await world.api.data(RECALL, {"input": {"messageId": sent["id"]}}, token=world.referrer.token)
    tombstone = recalled["recallMessage"]["chatMessage"]
    assert (tombstone["state"], tombstone["body"]) == ("RECALLED", None)
    # when the specialist replies to it
    result = await chat.send_result(world.specialist, "Which patient?", replyToId=sent["id"])
    # then the reply is refused with a code, and only the tombstone exists
    assert (result["code"], result["field"]) == ("MESSAGE_UNAVAILABLE", "replyToId")
    assert await _stored(chat) == (1, 0)
    # and a second recall, or a recall by someone else, is refused too
    again = await world.api.data(RECALL, {"input": {"messageId": sent["id"]}}, token=world.referrer.token)
    assert again["recallMessage"]["code"] == "MESSAGE_UNAVAILABLE"
    other = await chat.send(world.specialist, "A real question")
    refused = await world.api.data(RECALL, {"input": {"messageId": other["id"]}}, token=world.referrer.token)
    assert refused["recallMessage"]["code"] == "NOT_PERMITTED"


async def test_a_recall_destroys_the_text_and_attachments_in_the_database(world: World) -> None:
    chat = await _chat(world)
    sent = await chat.send(
        world.referrer, "Regret this", attachments=[attachment("note.txt", b"attached words")]
    )
    await world.api.data(RECALL, {"input": {"messageId": sent["id"]}}, token=world.referrer.token)
    row = await Message.select(Message.body, Message.state).where(Message.id == uuid_of(sent["id"])).first()
    assert row == {"body": "", "state": "RECALLED"}
    content = await MessageAttachment.select(MessageAttachment.content).where(
        MessageAttachment.message == uuid_of(sent["id"])
    )
    assert content == [{"content": None}]
    gone = await world.api.data(
        ATTACHMENT, {"id": sent["attachments"][0]["id"]}, token=world.specialist.token
    )
    assert gone["messageAttachment"] is None


async def test_history_pages_backwards_and_new_messages_page_forwards(world: World) -> None:
    # given seven messages
    chat = await _chat(world)
    for number in range(1, 8):
        await chat.send(world.referrer if number % 2 else world.specialist, f"message {number}")
    # when the app loads the newest three, then the three before them
    newest = await chat.messages(world.specialist, last=3)
    older = await chat.messages(world.specialist, last=3, before=newest["pageInfo"]["startCursor"])
    # then each page is in conversation order, with more history flagged
    assert [e["node"]["body"] for e in newest["edges"]] == ["message 5", "message 6", "message 7"]
    assert (newest["pageInfo"]["hasPreviousPage"], newest["pageInfo"]["hasNextPage"]) == (True, False)
    assert [e["node"]["sequence"] for e in older["edges"]] == [2, 3, 4]
    assert older["pageInfo"]["hasPreviousPage"] is True
    # and catching up after message 4 gives the rest, oldest first
    since = await chat.messages(world.specialist, first=2, after="4")
    assert [e["node"]["body"] for e in since["edges"]] == ["message 5", "message 6"]
    assert since["pageInfo"]["hasNextPage"] is True


async def test_an_attachment_round_trips_to_members_only(world: World) -> None:
    chat = await _chat(world)
    content = b"%PDF-1.4 fake echo report"
    sent = await chat.send(
        world.referrer, "Echo attached", attachments=[attachment("echo.pdf", content, "application/pdf")]
    )
    [meta] = sent["attachments"]
    assert (meta["filename"], meta["mediaType"], meta["sizeBytes"]) == (
        "echo.pdf",
        "application/pdf",
        len(content),
    )
    data = await world.api.data(ATTACHMENT, {"id": meta["id"]}, token=world.specialist.token)
    assert base64.b64decode(data["messageAttachment"]["contentBase64"]) == content
    hidden = await world.api.data(ATTACHMENT, {"id": meta["id"]}, token=world.outsider_specialist.token)
    assert hidden["messageAttachment"] is None


async def test_every_read_of_a_conversation_or_message_is_audited(world: World) -> None:
    from backend.audit.tables import AuditEvent

    chat = await _chat(world)
    await chat.send(world.referrer, "Audited words")
    before = await AuditEvent.count().where(AuditEvent.actor_user_id == str(world.specialist.user.id))
    await chat.messages(world.specialist, last=10)
    rows = (
        await AuditEvent.select(AuditEvent.action, AuditEvent.object_id)
        .where(AuditEvent.actor_user_id == str(world.specialist.user.id))
        .order_by(AuditEvent.id)
    )
    new = rows[before:]
    conversation = str(uuid_of(chat.id))
    assert {"action": "messaging.conversation.read", "object_id": conversation} in new
    assert {"action": "messaging.message.read", "object_id": f"{conversation}#1-1"} in new
