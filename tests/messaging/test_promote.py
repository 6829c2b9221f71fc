"""Promote to record: a message or attachment joins its referral's documents, with provenance."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.graphql_ids import global_id, uuid_of
from tests.support.messaging import PROMOTE, START, Chat, attachment, referral_chat
from tests.support.referrals import World, new_key, referral_in

DOCUMENT = """
query($id: ID!) { document(id: $id) { contentBase64 document { kind mediaType filename sourceMessageId } } }
"""


async def _promote(world: World, message_id: str, **extra: str) -> dict[str, Any]:
    data = await world.api.data(
        PROMOTE,
        {"input": {"messageId": message_id, "idempotencyKey": new_key(), **extra}},
        token=world.specialist.token,
    )
    return data["promoteMessageToRecord"]


async def test_a_promoted_message_becomes_a_document_naming_its_sender_and_message(world: World) -> None:
    # given a message in a referral's chat
    referral = await referral_in(world, "ACCEPTED")
    chat = await referral_chat(world, referral)
    sent = await chat.send(world.referrer, "Patient also takes apixaban 5 mg twice daily")
    # when the specialist promotes it
    result = await _promote(world, sent["id"])
    # then the referral has a document with the text, the sender and the message as provenance
    assert result["__typename"] == "PromoteMessageSuccess", result
    assert result["chatMessage"]["promotedDocumentId"] == result["documentId"]
    data = await world.api.data(DOCUMENT, {"id": result["documentId"]}, token=world.referrer.token)
    text = base64.b64decode(data["document"]["contentBase64"]).decode()
    assert "apixaban 5 mg" in text and f"Message: {uuid_of(sent['id'])}" in text
    assert f"From: {sent['senderName']}" in text
    assert data["document"]["document"]["sourceMessageId"] == sent["id"]
    assert (data["document"]["document"]["kind"], data["document"]["document"]["mediaType"]) == (
        "CLINICAL_NOTE",
        "text/plain",
    )
    # and promoting it again is refused with a code
    assert (await _promote(world, sent["id"]))["code"] == "ALREADY_PROMOTED"


async def test_an_attachment_is_promoted_as_it_is(world: World) -> None:
    chat = await referral_chat(world, await referral_in(world, "ACCEPTED"))
    sent = await chat.send(
        world.specialist, "ECG", attachments=[attachment("ecg.pdf", b"%PDF-1.4 ecg", "application/pdf")]
    )
    result = await _promote(world, sent["id"], attachmentId=sent["attachments"][0]["id"])
    assert result["__typename"] == "PromoteMessageSuccess", result
    data = await world.api.data(DOCUMENT, {"id": result["documentId"]}, token=world.referrer.token)
    assert base64.b64decode(data["document"]["contentBase64"]) == b"%PDF-1.4 ecg"
    assert data["document"]["document"]["filename"] == "ecg.pdf"


async def test_direct_conversation_messages_cannot_be_promoted(world: World) -> None:
    await referral_in(world, "SENT")
    started = await world.api.data(
        START,
        {"input": {"kind": "DIRECT", "memberIds": [global_id("User", world.referrer.user.id)]}},
        token=world.specialist.token,
    )
    chat = Chat(world, started["startConversation"]["conversation"])
    sent = await chat.send(world.specialist, "Off the record")
    assert (await _promote(world, sent["id"]))["code"] == "NOT_A_REFERRAL_CONVERSATION"
