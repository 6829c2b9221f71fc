"""Protocols: sending a referral that misses required items fails listing every one; a protocol
change never rewrites referrals already sent; SLA deadlines come from the protocol."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.support.graphql_ids import global_id
from tests.support.referrals import PDF, SPECIALTY, World

SAVE_PROTOCOL = """
mutation($input: SaveProtocolInput!) {
  saveProtocol(input: $input) {
    __typename
    ... on SaveProtocolSuccess { protocol { id version requiredFields requiredAttachmentKinds
                                            sla { priority respondWithinHours scheduleWithinDays } } }
    ... on ProtocolError { code }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
PROTOCOLS = (
    "query($org: ID!) { protocols(organizationId: $org) { version requiredFields specialty { code } } }"
)
REFERRAL_PROTOCOL = "query($id: ID!) { referral(id: $id) { protocol { version requiredFields } } }"


async def _save(world: World, token: str, **overrides: Any) -> dict[str, Any]:
    payload = {
        "organizationId": global_id("Organization", world.receiving_org),
        "specialtyCode": SPECIALTY,
        "name": "Cardiology referral",
        "requiredFields": ["REASON", "CLINICAL_QUESTION", "DIAGNOSES"],
        "requiredAttachmentKinds": ["ECG", "LAB_RESULTS"],
        "sla": [{"priority": "URGENT", "respondWithinHours": 12, "scheduleWithinDays": 5}],
    }
    payload.update(overrides)
    data = await world.api.data(SAVE_PROTOCOL, {"input": payload}, token=token)
    result: dict[str, Any] = data["saveProtocol"]
    return result


async def test_sending_without_required_items_lists_every_missing_item(world: World) -> None:
    # given the receiving organization's protocol requires three fields and two attachments
    saved = await _save(world, world.receiving_manager.token)
    assert saved["__typename"] == "SaveProtocolSuccess", saved
    # and a draft with no clinical question, no diagnoses and no attachments
    draft = await world.draft(clinicalQuestion="", diagnoses=[])

    # when the referrer sends it
    result = await world.act("SEND", draft, world.referrer)

    # then it fails listing every missing item, and the draft is unchanged
    assert result["code"] == "MISSING_REQUIRED_ITEMS"
    assert sorted(result["missingItems"]) == [
        "ATTACHMENT:ECG",
        "ATTACHMENT:LAB_RESULTS",
        "FIELD:CLINICAL_QUESTION",
        "FIELD:DIAGNOSES",
    ]
    current = await world.read(draft["id"], world.referrer)
    assert current is not None
    assert current["status"] == "DRAFT"
    assert current["version"] == draft["version"]
    assert current["checklist"] == [], "drafts have no protocol version yet"

    # when the referrer completes it
    draft = await world.step("EDIT", current, world.referrer, clinicalQuestion="AF?", diagnoses=["I48.91"])
    for kind in ("ECG", "LAB_RESULTS"):
        document = {
            "kind": kind,
            "mediaType": "application/pdf",
            "filename": f"{kind}.pdf",
            "contentBase64": PDF,
        }
        draft = await world.step("ADD_DOCUMENT", draft, world.referrer, document=document)
    sent = await world.step("SEND", draft, world.referrer)

    # then it is sent, its checklist is satisfied, and the respond-by deadline follows the protocol SLA
    assert sent["status"] == "SENT"
    assert all(item["satisfied"] for item in sent["checklist"])
    assert len(sent["checklist"]) == 5
    due = datetime.fromisoformat(sent["dueAt"])
    sent_at = datetime.fromisoformat(sent["timeline"][-1]["occurredAt"])
    assert abs((due - sent_at) - timedelta(hours=12)) < timedelta(seconds=2)


async def test_a_protocol_change_never_rewrites_a_sent_referral(world: World) -> None:
    # given a referral sent under version 1 (which requires only a reason)
    first = await _save(
        world, world.receiving_manager.token, requiredFields=["REASON"], requiredAttachmentKinds=[]
    )
    assert first["protocol"]["version"] == 1
    sent = await world.step("SEND", await world.draft(), world.referrer)

    # when the manager saves version 2 requiring more
    second = await _save(world, world.receiving_manager.token)
    assert second["protocol"]["version"] == 2

    # then the sent referral still shows version 1, and the organization's current protocol is version 2
    data = await world.api.data(REFERRAL_PROTOCOL, {"id": sent["id"]}, token=world.referrer.token)
    assert data["referral"]["protocol"] == {"version": 1, "requiredFields": ["REASON"]}
    data = await world.api.data(
        PROTOCOLS, {"org": global_id("Organization", world.receiving_org)}, token=world.referrer.token
    )
    assert data["protocols"] == [
        {
            "version": 2,
            "requiredFields": ["REASON", "CLINICAL_QUESTION", "DIAGNOSES"],
            "specialty": {"code": SPECIALTY},
        }
    ]


async def test_only_referral_managers_of_the_organization_edit_its_protocols(world: World) -> None:
    for person in (world.receiving_coordinator, world.specialist, world.referrer, world.outsider_coordinator):
        result = await _save(world, person.token)
        assert result == {"__typename": "ProtocolError", "code": "NOT_FOUND"}


async def test_out_of_network_referrals_need_a_reason(world: World) -> None:
    # given a draft to a specialist outside the referring organization's network
    assert world.outsider_specialist.provider_id is not None
    draft = await world.draft(
        receivingProviderId=global_id("Provider", world.outsider_specialist.provider_id)
    )
    # when it is sent without a reason, then it fails naming that item
    result = await world.act("SEND", draft, world.referrer)
    assert result["missingItems"] == ["FIELD:OUT_OF_NETWORK_REASON"]
    # when a reason is given, then it is sent and recorded as out of network
    draft = await world.step(
        "EDIT", draft, world.referrer, outOfNetworkReason="Patient preference: closer to home"
    )
    sent = await world.step("SEND", draft, world.referrer)
    assert sent["networkStatus"] == "OUT_OF_NETWORK"
