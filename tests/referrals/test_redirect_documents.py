"""Redirecting a declined referral carries its documents over, linked, never copied in plain."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from uuid import UUID

from backend.referrals.tables import Document
from tests.support import database
from tests.support.graphql_ids import uuid_of
from tests.support.referrals import Person, World

DOCUMENTS = """
query($id: ID!) {
  referral(id: $id) { documents { id kind mediaType filename sizeBytes sha256 isOutcome } }
}
"""
LINKS = "query($id: ID!) { referral(id: $id) { documents { id linkedDocumentId } } }"
CONTENT = "query($id: ID!) { document(id: $id) { document { id filename } contentBase64 } }"
UPLOADS = (
    ("LAB_RESULTS", "application/pdf", "labs-Numbat-Carried-17.pdf", b"%PDF-1.4 potassium Numbat-Content-17"),
    ("IMAGING", "text/plain", "echo-Quoll-Carried-23.txt", b"Echo report: Quoll-Content-23, EF 55%"),
)
CONSULT = ("CONSULT_REPORT", "text/plain", "consult-Bilby-9.txt", b"An earlier consult report Bilby-9")


def _upload(kind: str, media_type: str, filename: str, content: bytes) -> dict[str, str]:
    return {
        "kind": kind,
        "mediaType": media_type,
        "filename": filename,
        "contentBase64": base64.b64encode(content).decode(),
    }


async def _documents(world: World, referral_id: str, person: Person) -> list[dict[str, Any]]:
    data = await world.api.data(DOCUMENTS, {"id": referral_id}, token=person.token)
    documents: list[dict[str, Any]] = data["referral"]["documents"]
    return documents


async def _content(world: World, document_id: str, person: Person) -> bytes | None:
    data = await world.api.data(CONTENT, {"id": document_id}, token=person.token)
    found = data["document"]
    return None if found is None else base64.b64decode(found["contentBase64"])


def _shape(documents: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("kind", "mediaType", "filename", "sizeBytes", "sha256", "isOutcome")
    return sorted(tuple(document[key] for key in keys) for document in documents)


async def _sealed_contents() -> int:
    rows = await Document.select(Document.content)
    return sum(1 for row in rows if row["content"])


async def test_a_redirect_carries_the_documents_over_linked_not_copied(world: World) -> None:
    # given a declined referral with two attachments and a consult report
    referral = await world.draft()
    for upload in UPLOADS:
        referral = await world.step("ADD_DOCUMENT", referral, world.referrer, document=_upload(*upload))
    referral = await world.step("ADD_DOCUMENT", referral, world.referrer, document=_upload(*CONSULT))
    referral = await world.step("SEND", referral, world.referrer)
    declined = await world.step("DECLINE", referral, world.specialist)
    originals = await _documents(world, declined["id"], world.referrer)
    carried_originals = [d for d in originals if d["kind"] != "CONSULT_REPORT"]
    stored_before = await _sealed_contents()

    # when the referrer redirects it to another specialist
    redirected = await world.step(
        "REDIRECT", await world.read(declined["id"], world.referrer) or {}, world.referrer
    )

    # then the new referral lists the same documents (kinds, names, sizes, hashes), the consult
    # report excepted, each a document of its own
    carried = await _documents(world, redirected["id"], world.referrer)
    assert _shape(carried) == _shape(carried_originals)
    assert {d["id"] for d in carried}.isdisjoint({d["id"] for d in originals})
    links = (await world.api.data(LINKS, {"id": redirected["id"]}, token=world.referrer.token))["referral"]
    assert sorted(d["linkedDocumentId"] for d in links["documents"]) == sorted(
        d["id"] for d in carried_originals
    )
    # and their content is byte-identical, for the referrer and, once sent, the new receiver
    expected = {filename: content for _, _, filename, content in UPLOADS}
    for document in carried:
        assert await _content(world, document["id"], world.referrer) == expected[document["filename"]]
    sent = await world.step("SEND", redirected, world.referrer)
    for document in carried:
        assert (
            await _content(world, document["id"], world.second_specialist) == expected[document["filename"]]
        )
        # who is no party of the new referral reads nothing of it
        assert await _content(world, document["id"], world.specialist) is None
    assert sent["status"] == "SENT"

    # and the declined referral's access is unchanged: its receiver still reads its documents,
    # the new receiver does not
    for document in carried_originals:
        assert await _content(world, document["id"], world.specialist) == expected[document["filename"]]
        assert await _content(world, document["id"], world.second_specialist) is None

    # and nothing was copied: no plaintext in the database, and the content is stored once
    dump = await database.dump()
    plain = [text for _, _, filename, content in UPLOADS for text in (filename, content.decode())]
    plain += [hashlib.sha256(content).hexdigest() for *_, content in UPLOADS]
    assert [text for text in plain if text in dump] == []
    assert all(content.hex() not in dump.lower() for *_, content in UPLOADS)
    assert await _sealed_contents() == stored_before
    for document in carried_originals:
        row = (
            await Document.select(Document.content)
            .where(Document.id == UUID(uuid_of(document["id"])))
            .first()
        )
        assert dump.lower().count(bytes(row["content"]).hex()) == 1


async def test_a_second_redirect_links_to_the_original_documents(world: World) -> None:
    # given a redirected referral, declined in turn
    referral = await world.draft()
    referral = await world.step("ADD_DOCUMENT", referral, world.referrer, document=_upload(*UPLOADS[0]))
    declined = await world.step(
        "DECLINE", await world.step("SEND", referral, world.referrer), world.specialist
    )
    first = await world.step(
        "REDIRECT", await world.read(declined["id"], world.referrer) or {}, world.referrer
    )
    first = await world.step("SEND", first, world.referrer)
    first = await world.step("DECLINE", first, world.second_specialist)
    [original] = await _documents(world, declined["id"], world.referrer)

    # when it is redirected again (back to the first specialist)
    second = await world.step(
        "REDIRECT",
        await world.read(first["id"], world.referrer) or {},
        world.referrer,
        receivingProviderId=world.specialist_gid,
    )

    # then its document links to the original, reads the same, and the content is stored once
    links = (await world.api.data(LINKS, {"id": second["id"]}, token=world.referrer.token))["referral"]
    assert [d["linkedDocumentId"] for d in links["documents"]] == [original["id"]]
    [carried] = await _documents(world, second["id"], world.referrer)
    assert _shape([carried]) == _shape([original])
    assert await _content(world, carried["id"], world.referrer) == UPLOADS[0][3]
    rows = await Document.select(Document.content).where(Document.id == UUID(uuid_of(original["id"]))).first()
    assert (await database.dump()).lower().count(bytes(rows["content"]).hex()) == 1
