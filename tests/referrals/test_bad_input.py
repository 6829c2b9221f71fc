"""Bad input gets a clear, typed error and writes nothing."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.referrals import World, referral_in

INBOX = "query($first: Int) { referrals(view: OUTGOING, first: $first) { edges { node { id } } } }"
OUTGOING_COUNT = "query { referralStatusCounts(view: OUTGOING) { status count } }"


async def _outgoing_total(world: World) -> int:
    data = await world.api.data(OUTGOING_COUNT, token=world.referrer.token)
    return sum(c["count"] for c in data["referralStatusCounts"])


def _codes(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["__typename"] == "InputError", result
    return {(e["field"], e["code"]) for e in result["fieldErrors"]}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"reason": "x" * 2001}, ("reason", "TOO_LONG")),
        ({"relevantHistory": "x" * 10_001}, ("relevantHistory", "TOO_LONG")),
        ({"diagnoses": ["I48.91", "not-a-code"]}, ("diagnoses", "INVALID_ICD10")),
        ({"diagnoses": ["48.91"]}, ("diagnoses", "INVALID_ICD10")),
        ({"diagnoses": ["I10"] * 13}, ("diagnoses", "TOO_MANY")),
        ({"specialtyCode": "astrology"}, ("specialtyCode", "UNKNOWN_SPECIALTY")),
        ({"idempotencyKey": "short"}, ("idempotencyKey", "INVALID")),
        ({"receivingProviderId": "bm90LWFuLWlk"}, ("receivingProviderId", "NOT_FOUND")),
    ],
)
async def test_an_invalid_draft_is_refused_per_field_and_nothing_is_created(
    world: World, overrides: dict[str, Any], expected: tuple[str, str]
) -> None:
    before = await _outgoing_total(world)
    result = await world.create(**overrides)
    assert expected in _codes(result)
    assert await _outgoing_total(world) == before


async def test_every_problem_of_a_draft_is_reported_at_once(world: World) -> None:
    result = await world.create(reason="x" * 2001, diagnoses=["nope"], specialtyCode="astrology")
    assert {field for field, _ in _codes(result)} >= {"reason", "diagnoses", "specialtyCode"}


async def test_an_appointment_in_the_past_is_refused(world: World) -> None:
    referral = await referral_in(world, "ACCEPTED")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    result = await world.act("SCHEDULE", referral, world.receiving_coordinator, startsAt=past)
    assert ("startsAt", "IN_THE_PAST") in _codes(result)
    current = await world.read(referral["id"], world.referrer)
    assert current is not None
    assert (current["status"], current["version"], current["appointment"]) == (
        "ACCEPTED",
        referral["version"],
        None,
    )


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {"contentBase64": base64.b64encode(b"x" * (512 * 1024 + 1)).decode()},
            ("document.content", "TOO_LARGE"),
        ),
        ({"mediaType": "application/x-msdownload"}, ("document.mediaType", "UNSUPPORTED_MEDIA_TYPE")),
        ({"contentBase64": "%%%not base64%%%"}, ("document.contentBase64", "INVALID_BASE64")),
        ({"filename": "../../etc/passwd"}, ("document.filename", "INVALID")),
    ],
)
async def test_a_refused_attachment_writes_nothing(
    world: World, document: dict[str, Any], expected: tuple[str, str]
) -> None:
    referral = await world.draft()
    upload = {
        "kind": "LAB_RESULTS",
        "mediaType": "application/pdf",
        "filename": "labs.pdf",
        "contentBase64": "JVBERi0=",
    }
    upload.update(document)
    result = await world.act("ADD_DOCUMENT", referral, world.referrer, document=upload)
    assert expected in _codes(result)
    current = await world.read(referral["id"], world.referrer)
    assert current is not None
    assert (current["version"], current["documents"]) == (referral["version"], [])


async def test_a_page_size_over_the_maximum_is_a_clear_error(world: World) -> None:
    body = await world.api.gql(INBOX, {"first": 101}, token=world.referrer.token)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert "between 1 and 100" in body["errors"][0]["message"]


async def test_an_unknown_enum_value_is_refused_before_anything_runs(world: World) -> None:
    before = await _outgoing_total(world)
    response = await world.api.post(
        "mutation($input: CreateReferralInput!) { createReferral(input: $input) { __typename } }",
        {
            "input": {
                "idempotencyKey": "key-unknown-enum",
                "patientId": world.patient_gid,
                "specialtyCode": "cardiology",
                "priority": "WHENEVER",
                "receivingProviderId": world.specialist_gid,
            }
        },
        token=world.referrer.token,
    )
    body = response.json()
    assert "WHENEVER" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await _outgoing_total(world) == before
