"""Referral clinical text is encrypted at rest: a database dump shows none of it."""

from __future__ import annotations

from uuid import UUID

from backend.referrals.tables import Referral
from tests.support import database
from tests.support.graphql_ids import uuid_of
from tests.support.referrals import World

PHRASES = (
    "Xanthelasma-Zebra-31",
    "Quokka anticoagulation question",
    "Narwhal family history",
    "Okapi echocardiogram please",
)


async def test_a_dump_of_the_database_holds_no_clinical_text_in_plaintext(world: World) -> None:
    # given a referral written with known clinical phrases, and a question in its timeline
    referral = await world.draft(reason=PHRASES[0], clinicalQuestion=PHRASES[1], relevantHistory=PHRASES[2])
    referral = await world.step("SEND", referral, world.referrer)
    referral = await world.step("REQUEST_INFO", referral, world.specialist, note=PHRASES[3])
    # then the API returns the text to its parties
    assert (referral["reason"], referral["clinicalQuestion"]) == PHRASES[:2]
    assert referral["timeline"][-1]["note"] == PHRASES[3]
    # and no table holds any of it in plaintext
    dump = await database.dump()
    assert all(phrase not in dump for phrase in PHRASES)


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
