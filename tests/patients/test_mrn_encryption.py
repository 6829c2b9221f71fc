"""Patient MRNs are encrypted at rest and found through a keyed blind index (exact match only)."""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
from datetime import date
from typing import Any
from uuid import UUID

from backend.crypto import blind_index
from backend.db import sqlite_path
from backend.patients.repository import MRN, SCOPE, seal_legacy_patients
from backend.patients.tables import Patient
from backend.settings import get_settings
from tests.support.graphql_ids import global_id, uuid_of
from tests.support.referrals import World

REGISTER = """
mutation($input: RegisterPatientInput!) {
  registerPatient(input: $input) {
    __typename
    ... on RegisterPatientSuccess { patient { id mrn } }
    ... on PatientError { code field }
  }
}
"""
SEARCH = "query($search: String!) { patients(search: $search) { id mrn } }"
READ = "query($id: ID!) { patient(id: $id) { mrn } }"


def _new_mrn() -> str:
    return f"Zq-{secrets.token_hex(5)}"


async def _register(world: World, token: str, organization_id: UUID, mrn: str) -> dict[str, Any]:
    values = {
        "organizationId": global_id("Organization", organization_id),
        "mrn": mrn,
        "givenName": "Imogen",
        "familyName": "Quarrington",
        "birthDate": "1966-09-30",
        "sex": "FEMALE",
    }
    data = await world.api.data(REGISTER, {"input": values}, token=token)
    result: dict[str, Any] = data["registerPatient"]
    return result


async def _search(world: World, token: str, text: str) -> list[dict[str, Any]]:
    data = await world.api.data(SEARCH, {"search": text}, token=token)
    found: list[dict[str, Any]] = data["patients"]
    return found


async def _patient_rows() -> str:
    """Every raw row of the patient table, as text (both engines)."""
    settings = get_settings()
    if settings.uses_sqlite:
        with sqlite3.connect(sqlite_path(settings.database_url)) as connection:
            return "\n".join(str(row) for row in connection.execute("SELECT * FROM patient"))
    rows = await Patient.raw("SELECT row_to_json(t)::text AS row FROM patient t")
    return "\n".join(row["row"] for row in rows)


async def _stored(patient_id: UUID) -> dict[str, Any]:
    row: dict[str, Any] | None = await Patient.select().where(Patient.id == patient_id).first()
    assert row is not None
    return row


async def test_a_patient_table_dump_holds_no_mrn_in_plaintext(world: World) -> None:
    # given a patient registered through the API
    mrn = _new_mrn()
    created = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    assert created["__typename"] == "RegisterPatientSuccess", created
    # then the API reads the MRN back
    assert created["patient"]["mrn"] == mrn
    data = await world.api.data(READ, {"id": created["patient"]["id"]}, token=world.referrer.token)
    assert data["patient"] == {"mrn": mrn}
    # but no raw row of the patient table holds it, in any case
    dump = await _patient_rows()
    assert mrn not in dump
    assert mrn.upper() not in dump
    # and the row holds a ciphertext, its wrapped data key and a 64-hex blind index instead
    stored = await _stored(UUID(uuid_of(created["patient"]["id"])))
    assert stored["mrn"] == ""
    assert stored["mrn_ciphertext"].startswith("e1:")
    assert stored["wrapped_key"]
    assert len(stored["mrn_index"]) == 64
    int(stored["mrn_index"], 16)


async def test_an_exact_mrn_finds_the_patient_through_the_blind_index(world: World) -> None:
    # given a patient whose MRN has lower-case letters
    mrn = _new_mrn()
    created = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    patient = created["patient"]
    # when searching by that MRN, or with other case and surrounding spaces
    for text in (mrn, f"  {mrn.upper()} ", mrn.lower()):
        # then the patient is found, with the MRN as it was registered
        assert await _search(world, world.referrer.token, text) == [patient], text
    # but a part of the MRN finds nothing (exact match only)
    assert await _search(world, world.referrer.token, mrn[:-1]) == []
    # and other organizations find nothing
    assert await _search(world, world.outsider_coordinator.token, mrn) == []


async def test_an_mrn_is_unique_per_organization_only(world: World) -> None:
    # given a patient registered in the referring organization
    mrn = _new_mrn()
    first = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    assert first["__typename"] == "RegisterPatientSuccess", first
    # when the same MRN is registered there again, also in other case with spaces
    for again in (mrn, f" {mrn.upper()} "):
        # then it is refused with the typed error
        refused = await _register(world, world.referring_coordinator.token, world.referring_org, again)
        assert refused == {"__typename": "PatientError", "code": "MRN_TAKEN", "field": "mrn"}, again
    # but another organization registers the same MRN for its own patient
    other = await _register(world, world.outsider_coordinator.token, world.outsider_org, mrn)
    assert other["__typename"] == "RegisterPatientSuccess", other
    # and each organization finds its own patient only
    assert await _search(world, world.referrer.token, mrn) == [first["patient"]]
    assert await _search(world, world.outsider_coordinator.token, mrn) == [other["patient"]]
    # with the same MRN indexed alike in both (the index is per value, the uniqueness per organization)
    first_row = await _stored(UUID(uuid_of(first["patient"]["id"])))
    other_row = await _stored(UUID(uuid_of(other["patient"]["id"])))
    assert first_row["mrn_index"] == other_row["mrn_index"]
    assert first_row["mrn_ciphertext"] != other_row["mrn_ciphertext"]


async def test_the_index_is_keyed_not_a_plain_hash_of_the_mrn(world: World) -> None:
    # given a registered patient
    mrn = _new_mrn()
    created = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    stored = await _stored(UUID(uuid_of(created["patient"]["id"])))
    # then its index is none of the unkeyed SHA-256 digests of the MRN
    plain = {hashlib.sha256(text.encode()).hexdigest() for text in (mrn, mrn.upper(), mrn.strip().upper())}
    assert stored["mrn_index"] not in plain
    # but the HMAC under the configured index key (so nothing computes it without that key)
    key = blind_index.blind_index_key()
    assert stored["mrn_index"] == blind_index.compute(key, mrn, scope=SCOPE, field=MRN)
    assert stored["mrn_index"] != blind_index.compute(os.urandom(32), mrn, scope=SCOPE, field=MRN)
    assert stored["mrn_index"] != blind_index.compute(key, mrn, scope=SCOPE, field="other")


async def test_a_row_from_before_encryption_is_read_found_and_then_sealed(world: World) -> None:
    # given a patient row written before MRN encryption (plaintext, no key, no index)
    mrn = _new_mrn()
    legacy = Patient(
        organization=world.referring_org,
        mrn=mrn,
        given_name="Legacy",
        family_name="Quarrington",
        search_name="quarrington legacy",
        birth_date=date(1950, 1, 2),
        sex="MALE",
    )
    await legacy.save()
    legacy_id = UUID(str(legacy.id))
    expected = [{"id": global_id("Patient", legacy_id), "mrn": mrn}]
    # then it is read and found by its MRN, and its MRN is taken
    assert await _search(world, world.referrer.token, mrn) == expected
    refused = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    assert refused["code"] == "MRN_TAKEN"
    # when `migrate` seals the rows from before encryption
    sealed, _ = await seal_legacy_patients()
    assert sealed >= 1
    # then the row holds no plaintext MRN any more, and reads and is found as before
    stored = await _stored(legacy_id)
    assert (stored["mrn"], stored["mrn_index"] is not None, bool(stored["wrapped_key"])) == ("", True, True)
    assert mrn not in await _patient_rows()
    assert await _search(world, world.referrer.token, f" {mrn.upper()}") == expected
    refused = await _register(world, world.referring_coordinator.token, world.referring_org, mrn)
    assert refused["code"] == "MRN_TAKEN"
