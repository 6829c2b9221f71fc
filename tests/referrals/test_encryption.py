"""Referral clinical text is encrypted at rest: a database dump shows none of it."""

from __future__ import annotations

import base64
import hashlib
from uuid import UUID

from backend.crypto import envelope
from backend.referrals.repository import seal_legacy_documents, seal_legacy_referrals
from backend.referrals.tables import Document, Referral, ReferralEvent
from tests.support import database
from tests.support.graphql_ids import uuid_of
from tests.support.referrals import Person, World

PHRASES = (
    "Xanthelasma-Zebra-31",
    "Quokka anticoagulation question",
    "Narwhal family history",
    "Okapi echocardiogram please",
)
DOCUMENT_NAME = "echo-Xanthelasma-Zebra-31.txt"
LEGACY_NAME = "echo-Quagga-Legacy-77.txt"
LEGACY_PHRASES = (
    "Pangolin-Legacy-Reason-12",
    "Axolotl legacy question",
    "Tapir legacy history",
    "Dugong legacy note",
)
LEGACY_DOCUMENT = "ct-Pangolin-Legacy-12.txt"
LEGACY_CONTENT = b"CT report written before encryption: Pangolin-Legacy-Content-12"
DOCUMENTS = "query($id: ID!) { referral(id: $id) { documents { filename sha256 } } }"
LEGACY_READ = """
query($id: ID!) {
  referral(id: $id) {
    reason clinicalQuestion relevantHistory
    timeline { note }
    documents { id filename sha256 }
  }
}
"""
DOCUMENT_CONTENT = "query($id: ID!) { document(id: $id) { contentBase64 } }"


async def test_a_dump_of_the_database_holds_no_clinical_text_in_plaintext(world: World) -> None:
    # given a referral written with known clinical phrases, and a question in its timeline
    referral = await world.draft(reason=PHRASES[0], clinicalQuestion=PHRASES[1], relevantHistory=PHRASES[2])
    referral = await world.step("SEND", referral, world.referrer)
    referral = await world.step("REQUEST_INFO", referral, world.specialist, note=PHRASES[3])
    # and a document whose file name names the patient
    content = f"Echo report for {PHRASES[0]}".encode()
    document = {
        "kind": "IMAGING",
        "mediaType": "text/plain",
        "filename": DOCUMENT_NAME,
        "contentBase64": base64.b64encode(content).decode(),
    }
    referral = await world.step("ADD_DOCUMENT", referral, world.referrer, document=document)
    # then the API returns the text to its parties
    assert (referral["reason"], referral["clinicalQuestion"]) == PHRASES[:2]
    assert referral["timeline"][-2]["note"] == PHRASES[3]
    [stored] = await _documents(world, referral["id"], world.specialist)
    assert (stored["filename"], stored["sha256"]) == (DOCUMENT_NAME, hashlib.sha256(content).hexdigest())
    # and no table holds any of it in plaintext, nor the document's hash (it would confirm a guess)
    dump = await database.dump()
    assert all(phrase not in dump for phrase in (*PHRASES, DOCUMENT_NAME, stored["sha256"]))
    assert _hex(f"Echo report for {PHRASES[0]}") not in dump.lower()  # binary columns dump as hex


async def _documents(world: World, referral_id: str, person: Person) -> list[dict[str, str]]:
    data = await world.api.data(DOCUMENTS, {"id": referral_id}, token=person.token)
    documents: list[dict[str, str]] = data["referral"]["documents"]
    return documents


async def test_documents_stored_before_sealing_read_as_before_and_migrate_seals_them(world: World) -> None:
    # given a document stored before file names and hashes were sealed: both in plain
    referral = await world.draft()
    content = b"Echo report, stored the old way"
    expected = [{"filename": LEGACY_NAME, "sha256": hashlib.sha256(content).hexdigest()}]
    legacy = Document(
        referral=UUID(uuid_of(referral["id"])),
        kind="IMAGING",
        media_type="text/plain",
        filename=LEGACY_NAME,
        size_bytes=len(content),
        sha256=expected[0]["sha256"],
        content=content,
        added_by=world.referrer.user.id,
    )
    await legacy.save()
    # then the API reads it
    assert await _documents(world, referral["id"], world.referrer) == expected

    # when `migrate` seals documents stored plain
    assert await seal_legacy_documents() >= 1

    # then the row holds neither in plain, reads as before, and nothing is left to seal
    stored = await Document.select(Document.filename, Document.sha256).where(Document.id == legacy.id).first()
    assert all(value.startswith(envelope.FIELD_PREFIX) for value in stored.values())
    assert LEGACY_NAME not in await database.dump()
    assert await _documents(world, referral["id"], world.referrer) == expected
    assert await seal_legacy_documents() == 0


async def test_a_ciphertext_moved_to_another_referral_fails_with_a_clear_error_not_garbled_text(
    world: World,
) -> None:
    # given two referrals, and the first one's sealed reason copied into the second
    first = await world.draft(reason=PHRASES[0])
    second = await world.draft(reason="Something else")
    sealed = await Referral.select(Referral.reason).where(Referral.id == UUID(uuid_of(first["id"]))).first()
    await Referral.update({Referral.reason: sealed["reason"]}).where(
        Referral.id == UUID(uuid_of(second["id"]))
    )
    # when the second is read, then the API answers a masked error, never the moved text
    body = await world.api.gql(
        "query($id: ID!) { referral(id: $id) { reason } }", {"id": second["id"]}, token=world.referrer.token
    )
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert PHRASES[0] not in str(body)
    # and the failure is in the audit log, naming the referral
    from backend.audit.tables import AuditEvent

    audited = await AuditEvent.select().where(
        (AuditEvent.action == "crypto.decryption.failed") & (AuditEvent.object_id == uuid_of(second["id"]))
    )
    assert [(row["outcome"], row["actor_user_id"]) for row in audited] == [
        ("failure", str(world.referrer.user.id))
    ]
    # and the first still reads
    assert (await world.read(first["id"], world.referrer) or {})["reason"] == PHRASES[0]


def _hex(text: str) -> str:
    return text.encode().hex()


async def _legacy_view(world: World, referral_id: str) -> tuple[dict[str, object], list[bytes]]:
    data = await world.api.data(LEGACY_READ, {"id": referral_id}, token=world.referrer.token)
    referral = data["referral"]
    contents = []
    for document in referral["documents"]:
        found = await world.api.data(DOCUMENT_CONTENT, {"id": document["id"]}, token=world.referrer.token)
        contents.append(base64.b64decode(found["document"]["contentBase64"]))
    return referral, contents


async def test_referrals_written_before_encryption_read_as_before_and_migrate_seals_all_their_text(
    world: World,
) -> None:
    # given a referral as a release before encryption wrote it: no data key, its clinical text,
    # a timeline note and a document (content, file name, hash) all plain
    referral = await world.draft()
    referral = await world.step("SEND", referral, world.referrer)
    referral = await world.step("REQUEST_INFO", referral, world.specialist, note="sealed for now")
    referral_id = UUID(uuid_of(referral["id"]))
    await Referral.update(
        {
            Referral.reason: LEGACY_PHRASES[0],
            Referral.clinical_question: LEGACY_PHRASES[1],
            Referral.relevant_history: LEGACY_PHRASES[2],
            Referral.outcome_report: "",
            Referral.wrapped_key: "",
        }
    ).where(Referral.id == referral_id)
    await ReferralEvent.update({ReferralEvent.note: LEGACY_PHRASES[3]}).where(
        (ReferralEvent.referral == referral_id) & (ReferralEvent.note != "")
    )
    await Document(
        referral=referral_id,
        kind="IMAGING",
        media_type="text/plain",
        filename=LEGACY_DOCUMENT,
        size_bytes=len(LEGACY_CONTENT),
        sha256=hashlib.sha256(LEGACY_CONTENT).hexdigest(),
        content=LEGACY_CONTENT,
        added_by=world.referrer.user.id,
    ).save()
    before = await _legacy_view(world, referral["id"])
    assert before[0]["reason"] == LEGACY_PHRASES[0]
    assert LEGACY_PHRASES[3] in [event["note"] for event in before[0]["timeline"]]
    assert before[1] == [LEGACY_CONTENT]

    # when `migrate` seals what was written before encryption
    referrals, notes = await seal_legacy_referrals()
    documents = await seal_legacy_documents()

    # then the API reads the same, and the database holds none of it in plain
    assert (referrals, notes, documents) == (1, 1, 1)
    assert await _legacy_view(world, referral["id"]) == before
    dump = await database.dump()
    text = (*LEGACY_PHRASES, LEGACY_DOCUMENT, hashlib.sha256(LEGACY_CONTENT).hexdigest())
    assert [phrase for phrase in text if phrase in dump] == []
    assert _hex("Pangolin-Legacy-Content-12") not in dump.lower()  # binary columns dump as hex
    # and a second pass finds nothing left to seal
    assert await seal_legacy_referrals() == (0, 0)
    assert await seal_legacy_documents() == 0
