"""Chat is encrypted at rest: a dump shows no text, and a moved or altered ciphertext fails
with an audited error instead of returning text."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from backend.audit.tables import AuditEvent
from backend.messaging.tables import Message
from tests.support import database
from tests.support.graphql_ids import global_id, uuid_of
from tests.support.messaging import MESSAGES, PROMOTE, START, Chat, attachment, referral_chat
from tests.support.referrals import World, new_key, referral_in

PHRASES = (
    "Capybara ultrasound findings",
    "Pangolin troponin trend",
    "Axolotl-discharge-summary.pdf",
    "Tapir attachment body text",
    "Wombat group of cardiologists",
    "Ibex promoted into the record",
)


async def test_a_dump_after_a_chat_holds_none_of_its_text(world: World) -> None:
    # given a referral chat with text, an attachment, a promoted message and attachment (file name
    # and content become a referral document), and a titled group
    chat = await referral_chat(world, await referral_in(world, "SENT"))
    await chat.send(world.referrer, PHRASES[0])
    with_file = await chat.send(
        world.specialist, PHRASES[1], attachments=[attachment(PHRASES[2], PHRASES[3].encode())]
    )
    promoted = await chat.send(world.specialist, PHRASES[5])
    for promotion in (
        {"messageId": promoted["id"]},
        {"messageId": with_file["id"], "attachmentId": with_file["attachments"][0]["id"]},
    ):
        result = await world.api.data(
            PROMOTE, {"input": {**promotion, "idempotencyKey": new_key()}}, token=world.specialist.token
        )
        assert result["promoteMessageToRecord"]["__typename"] == "PromoteMessageSuccess"
    group = await world.api.data(
        START,
        {
            "input": {
                "kind": "GROUP",
                "title": PHRASES[4],
                "memberIds": [global_id("User", world.colleague.user.id)],
            }
        },
        token=world.referrer.token,
    )
    assert group["startConversation"]["conversation"]["title"] == PHRASES[4]
    # then the members read it all back
    bodies = [e["node"]["body"] for e in (await chat.messages(world.referrer))["edges"]]
    assert bodies == [PHRASES[0], PHRASES[1], PHRASES[5]]
    # and no table holds any of it in plaintext (nor the attachment in base64, nor in the hex form
    # binary columns dump as)
    dump = await database.dump()
    hidden = [*PHRASES, base64.b64encode(PHRASES[3].encode()).decode()]
    assert [phrase for phrase in hidden if phrase in dump] == []
    assert PHRASES[3].encode().hex() not in dump.lower()


async def _read_error(chat: Chat, world: World) -> dict[str, Any]:
    body = await world.api.gql(MESSAGES, {"id": chat.id, "last": 10}, token=world.specialist.token)
    assert body["data"] is None or body["data"]["conversation"] is None, body
    return body


async def _sealed(message_id: str) -> str:
    row = await Message.select(Message.body).where(Message.id == UUID(uuid_of(message_id))).first()
    return str(row["body"])


async def _put(message_id: str, **values: Any) -> None:
    await Message.update({getattr(Message, k): v for k, v in values.items()}).where(
        Message.id == UUID(uuid_of(message_id))
    )


async def test_a_moved_or_altered_ciphertext_fails_with_an_audited_error_never_garbled_text(
    world: World,
) -> None:
    # given two referral chats between the same people
    first = await referral_chat(world, await referral_in(world, "SENT"))
    second = await referral_chat(world, await referral_in(world, "SENT"))
    source = await first.send(world.referrer, PHRASES[0])
    sealed = await _sealed(source["id"])
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]

    async def tampered(chat: Chat, message: dict[str, Any], **values: Any) -> None:
        original = {
            name: (
                await Message.select(getattr(Message, name))
                .where(Message.id == UUID(uuid_of(message["id"])))
                .first()
            )[name]
            for name in values
        }
        await _put(message["id"], **values)
        body = await _read_error(chat, world)
        # then the API answers a masked error, never text
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR", body
        assert PHRASES[0] not in str(body) and "Other words" not in str(body)
        await _put(message["id"], **original)

    same_conversation = await first.send(world.specialist, "Other words")
    other_conversation = await second.send(world.referrer, "Other words")
    before = await AuditEvent.count().where(AuditEvent.action == "crypto.decryption.failed")
    # when a ciphertext is moved to another message of the conversation
    await tampered(first, same_conversation, body=sealed)
    # or to a message of another conversation
    await tampered(second, other_conversation, body=sealed)
    # or the message is made to look sent by someone else
    await tampered(first, source, sender=world.specialist.user.id)
    # or one character of it is changed
    await tampered(first, source, body=flipped)
    # then each failure is audited, naming the conversation and the reader
    failures = (
        await AuditEvent.select(AuditEvent.object_id, AuditEvent.actor_user_id)
        .where(AuditEvent.action == "crypto.decryption.failed")
        .order_by(AuditEvent.id)
    )
    assert len(failures) - before == 4
    conversations = {str(uuid_of(first.id)), str(uuid_of(second.id))}
    assert {row["object_id"] for row in failures[before:]} == conversations
    assert {row["actor_user_id"] for row in failures[before:]} == {str(world.specialist.user.id)}
    # and once restored, everything reads again
    assert [e["node"]["body"] for e in (await first.messages(world.specialist))["edges"]] == [
        PHRASES[0],
        "Other words",
    ]
