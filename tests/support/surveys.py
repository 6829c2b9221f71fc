"""Survey helpers: a patient who chose e-mail, a referral whose visit is completed, invitations."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx

from tests.support.graphql_ids import global_id
from tests.support.referrals import PATHS, World

REGISTER = """
mutation($input: RegisterPatientInput!) {
  registerPatient(input: $input) {
    __typename
    ... on RegisterPatientSuccess { patient { id contactPreference email } }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
SURVEY = """
query($id: ID!) { referral(id: $id) { id survey {
  state delivery sentAt expiresAt link qrCodeSvg
  answer { overall recommend waitAcceptable comment answeredAt }
} } }
"""
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
NEUTRAL_TITLE = "This survey link can&#x27;t be used"


@dataclass
class Invited:
    referral: dict[str, Any]
    referral_id: UUID
    invitation: Any
    link: str
    path: str
    email: str | None


def raw_id(gid: str) -> UUID:
    import base64

    padded = gid + "=" * (-len(gid) % 4)
    return UUID(base64.urlsafe_b64decode(padded).decode().split(":", 1)[1])


async def register_patient(world: World, *, email: str | None, preference: str) -> str:
    values: dict[str, Any] = {
        "organizationId": global_id("Organization", world.referring_org),
        "mrn": f"SV-{secrets.token_hex(4)}",
        "givenName": "Iolanthe",
        "familyName": f"Quarrington{secrets.token_hex(2)}",
        "birthDate": "1970-05-06",
        "sex": "FEMALE",
        "contactPreference": preference,
    }
    if email is not None:
        values["email"] = email
    data = await world.api.data(REGISTER, {"input": values}, token=world.referring_coordinator.token)
    result = data["registerPatient"]
    assert result["__typename"] == "RegisterPatientSuccess", result
    patient_id: str = result["patient"]["id"]
    return patient_id


async def completed_visit(world: World, patient_gid: str) -> dict[str, Any]:
    referral = await world.draft(patientId=patient_gid)
    for action, who in PATHS["VISIT_COMPLETED"]:
        if action == "COMPLETE_VISIT":
            await world.visit_time_arrives(referral)
        referral = await world.step(action, referral, getattr(world, who))
    return referral


async def invite(world: World, referral: dict[str, Any]) -> Any:
    from backend.core.clock import utcnow
    from backend.surveys import service

    async with world.api.server.container.database.unit_of_work():
        return await service.invite(raw_id(referral["id"]), now=utcnow())


async def invited(world: World, *, email: str | None = None) -> Invited:
    """A completed visit of a new patient (EMAIL when ``email`` is given, else NONE), invited."""
    from backend.surveys import service

    patient = await register_patient(world, email=email, preference="EMAIL" if email else "NONE")
    referral = await completed_visit(world, patient)
    invitation = await invite(world, referral)
    assert invitation is not None
    link = service.link_url(invitation)
    path = "/survey/" + link.rsplit("/survey/", 1)[1]
    return Invited(referral, raw_id(referral["id"]), invitation, link, path, email)


async def open_form(http: httpx.AsyncClient, path: str) -> tuple[httpx.Response, str]:
    """GET the form: the response and its CSRF field (the cookie stays in the client's jar)."""
    response = await http.get(path)
    found = CSRF.search(response.text)
    return response, found.group(1) if found else ""


def answers(csrf: str, **overrides: str) -> dict[str, str]:
    values = {"csrf": csrf, "overall": "4", "recommend": "9", "wait": "yes", "comment": ""}
    values.update(overrides)
    return values
