"""Registering and finding patients within your organizations."""

from __future__ import annotations

from typing import Any

from tests.support.graphql_ids import global_id
from tests.support.referrals import World

REGISTER = """
mutation($input: RegisterPatientInput!) {
  registerPatient(input: $input) {
    __typename
    ... on RegisterPatientSuccess {
      patient { id mrn givenName familyName birthDate sex insurancePlan { code } }
    }
    ... on PatientError { code field }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
SEARCH = "query($search: String!) { patients(search: $search) { mrn familyName } }"


def _patient(world: World, **overrides: Any) -> dict[str, Any]:
    values = {
        "organizationId": global_id("Organization", world.referring_org),
        "mrn": "OS-100001",
        "givenName": "Maria",
        "familyName": "Okonkwo-Smith",
        "birthDate": "1958-02-11",
        "sex": "FEMALE",
    }
    values.update(overrides)
    return values


async def _register(world: World, token: str, **overrides: Any) -> dict[str, Any]:
    data = await world.api.data(REGISTER, {"input": _patient(world, **overrides)}, token=token)
    result: dict[str, Any] = data["registerPatient"]
    return result


async def test_a_patient_is_registered_once_per_mrn_and_found_by_name_or_mrn(world: World) -> None:
    # when the coordinator registers a patient
    created = await _register(world, world.referring_coordinator.token)
    assert created["__typename"] == "RegisterPatientSuccess", created
    # then a second registration with that MRN in the same organization is refused
    again = await _register(world, world.referring_coordinator.token, givenName="Other")
    assert again == {"__typename": "PatientError", "code": "MRN_TAKEN", "field": "mrn"}
    # and the patient is found by MRN, by family-name prefix and by given-name prefix
    for text in ("OS-100001", "okonkwo", "Maria"):
        data = await world.api.data(SEARCH, {"search": text}, token=world.referrer.token)
        assert {"mrn": "OS-100001", "familyName": "Okonkwo-Smith"} in data["patients"], text
    # but wildcards are literal, and other organizations find nothing
    data = await world.api.data(SEARCH, {"search": "%%"}, token=world.referrer.token)
    assert data["patients"] == []
    data = await world.api.data(SEARCH, {"search": "OS-100001"}, token=world.outsider_coordinator.token)
    assert data["patients"] == []


async def test_registering_in_another_organization_or_with_bad_data_is_refused(world: World) -> None:
    elsewhere = await _register(
        world,
        world.outsider_coordinator.token,
        mrn="X-1",
        organizationId=global_id("Organization", world.referring_org),
    )
    assert elsewhere["code"] == "NOT_FOUND"
    bad = await _register(world, world.referrer.token, mrn="", givenName="x" * 101, birthDate="2999-01-01")
    assert {(e["field"], e["code"]) for e in bad["fieldErrors"]} == {
        ("mrn", "REQUIRED"),
        ("givenName", "TOO_LONG"),
        ("birthDate", "OUT_OF_RANGE"),
    }
