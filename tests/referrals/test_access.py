"""Authorization matrix: a user of another organization and a same-organization user who is not a
party get exactly what a nonexistent id gets, for every query and mutation touching a referral,
a patient or a document, and nothing is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.graphql_ids import global_id
from tests.support.referrals import MUTATIONS, PDF, World, referral_in

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
PATIENT = "query($id: ID!) { patient(id: $id) { id mrn } }"
PATIENTS = "query($search: String!) { patients(search: $search) { id } }"
DOCUMENT = "query($id: ID!) { document(id: $id) { contentBase64 } }"
INBOX = """
query($view: InboxView!, $org: ID) {
  referrals(view: $view, organizationId: $org, first: 100) { edges { node { id } } }
}
"""
COUNTS = (
    "query($view: InboxView!, $org: ID) { referralStatusCounts(view: $view, organizationId: $org) { count } }"
)
OUTSIDERS = ("outsider_coordinator", "outsider_specialist", "colleague", "second_specialist")


async def _snapshot(world: World, referral_id: str) -> tuple[int, int, int]:
    current = await world.read(referral_id, world.referrer)
    assert current is not None
    return current["version"], len(current["timeline"]), len(current["documents"])


@pytest.mark.parametrize("outsider", OUTSIDERS)
async def test_non_parties_get_what_a_nonexistent_id_gets(world: World, outsider: str) -> None:
    # given a referral under review with a document, and a nonexistent referral id
    referral = await referral_in(world, "IN_REVIEW")
    referral = await world.step("ADD_DOCUMENT", referral, world.referrer)
    document_id = referral["documents"][0]["id"]
    missing = {**referral, "id": global_id("Referral", uuid.uuid4())}
    person = getattr(world, outsider)
    before = await _snapshot(world, referral["id"])

    # then reads answer null, exactly as for a nonexistent id (the patient stays visible to the
    # colleague only because staff of the patient's own organization may read its patients)
    reads = [(NODE, {"id": referral["id"]}), (DOCUMENT, {"id": document_id})]
    if outsider != "colleague":
        reads += [(NODE, {"id": world.patient_gid}), (PATIENT, {"id": world.patient_gid})]
    for query, variables in reads:
        data = await world.api.data(query, variables, token=person.token)
        assert next(iter(data.values())) is None, (query, data)
    assert await world.read(referral["id"], person) is None
    assert await world.read(missing["id"], person) is None

    # and no inbox lists it
    for view in ("INCOMING", "OUTGOING"):
        data = await world.api.data(INBOX, {"view": view}, token=person.token)
        assert referral["id"] not in {e["node"]["id"] for e in data["referrals"]["edges"]}
    for org in (world.referring_org, world.receiving_org):
        org_gid = global_id("Organization", org)
        data = await world.api.data(INBOX, {"view": "ORGANIZATION_QUEUE", "org": org_gid}, token=person.token)
        assert data["referrals"]["edges"] == []
        counts = await world.api.data(
            COUNTS, {"view": "ORGANIZATION_QUEUE", "org": org_gid}, token=person.token
        )
        assert counts["referralStatusCounts"] == []

    # and every mutation answers NOT_FOUND, as for a nonexistent id, and writes nothing
    for action in MUTATIONS:
        on_real = await world.act(action, referral, person)
        on_missing = await world.act(action, missing, person)
        assert on_real == on_missing, action
        assert on_real["code"] == "NOT_FOUND", (action, on_real)
    assert await _snapshot(world, referral["id"]) == before


async def test_the_receiving_side_sees_nothing_of_a_draft(world: World) -> None:
    # given a draft
    draft = await world.draft()
    # then neither the receiving specialist nor their coordinator can read or list it
    for person in (world.specialist, world.receiving_coordinator):
        assert await world.read(draft["id"], person) is None
        data = await world.api.data(INBOX, {"view": "INCOMING"}, token=person.token)
        assert draft["id"] not in {e["node"]["id"] for e in data["referrals"]["edges"]}


async def test_the_receiving_side_reads_the_patient_only_through_a_referral(world: World) -> None:
    # given a patient of the referring organization
    # when no referral for them was sent, the receiving specialist cannot read them
    data = await world.api.data(PATIENT, {"id": world.patient_gid}, token=world.specialist.token)
    assert data["patient"] is None
    # when one is sent, they can
    await referral_in(world, "SENT")
    data = await world.api.data(PATIENT, {"id": world.patient_gid}, token=world.specialist.token)
    assert data["patient"]["id"] == world.patient_gid
    # and a same-organization colleague of the referrer finds them by search (staff of the patient's org)
    data = await world.api.data(PATIENTS, {"search": "Testpatient"}, token=world.colleague.token)
    assert world.patient_gid in {p["id"] for p in data["patients"]}
    # but an outsider never does
    data = await world.api.data(PATIENTS, {"search": "Testpatient"}, token=world.outsider_coordinator.token)
    assert data["patients"] == []


async def test_every_read_and_write_is_audited(world: World) -> None:
    from backend.audit.tables import AuditEvent

    # given a referral with a document
    referral = await referral_in(world, "SENT")
    referral = await world.step(
        "ADD_DOCUMENT",
        referral,
        world.referrer,
        document={"kind": "ECG", "mediaType": "application/pdf", "filename": "ecg.pdf", "contentBase64": PDF},
    )
    document_id = referral["documents"][0]["id"]
    # when the specialist reads the referral and the document
    await world.read(referral["id"], world.specialist)
    await world.api.data(DOCUMENT, {"id": document_id}, token=world.specialist.token)
    # then the audit log has the reads and writes, by the right actors, with ids only
    rows: list[dict[str, Any]] = await AuditEvent.select().where(
        AuditEvent.actor_user_id.is_in([str(world.specialist.user.id), str(world.referrer.user.id)])
    )
    actions = {(r["actor_user_id"], r["action"]) for r in rows}
    specialist, referrer = str(world.specialist.user.id), str(world.referrer.user.id)
    assert (referrer, "referrals.referral.created") in actions
    assert (referrer, "referrals.referral.changed") in actions
    assert (referrer, "referrals.document.added") in actions
    assert (specialist, "referrals.referral.read") in actions
    assert (specialist, "patients.patient.read") in actions
    assert (specialist, "referrals.document.read") in actions
    assert all(len(r["object_id"] or "") <= 64 for r in rows)
