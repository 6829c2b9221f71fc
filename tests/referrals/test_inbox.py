"""Inbox views: order, filters, cursors, badge counts, and a constant number of SQL statements."""

from __future__ import annotations

from typing import Any

from backend.db import STATEMENTS
from tests.support.graphql_ids import global_id
from tests.support.referrals import World

INBOX = """
query($view: InboxView!, $org: ID, $filter: ReferralFilter, $first: Int, $after: String) {
  referrals(view: $view, organizationId: $org, filter: $filter, first: $first, after: $after) {
    edges { cursor node {
      id status priority dueAt isOverdue allowedActions reason diagnoses
      patient { id mrn givenName familyName }
      specialty { code name }
      referringProvider { id displayName } receivingProvider { id displayName }
      referringOrganization { id name } receivingOrganization { id name }
      appointment { startsAt } documents { id } timeline { action }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
COUNTS = """
query($view: InboxView!, $org: ID) {
  referralStatusCounts(view: $view, organizationId: $org) { status count }
}
"""
RANK = {"STAT": 0, "URGENT": 1, "ROUTINE": 2}


async def _inbox(world: World, token: str, **variables: Any) -> dict[str, Any]:
    data = await world.api.data(INBOX, variables, token=token)
    page: dict[str, Any] = data["referrals"]
    return page


async def _sent(world: World, count: int) -> list[dict[str, Any]]:
    priorities = ["ROUTINE", "STAT", "URGENT"]
    sent = []
    for index in range(count):
        draft = await world.draft(priority=priorities[index % 3])
        sent.append(await world.step("SEND", draft, world.referrer))
    return sent


async def test_the_incoming_inbox_is_sorted_by_priority_then_due_time_and_pages_by_cursor(
    world: World,
) -> None:
    # given seven referrals sent to the specialist with mixed priorities
    sent = await _sent(world, 7)

    # when the specialist pages through the inbox three at a time
    seen: list[dict[str, Any]] = []
    after = None
    while True:
        page = await _inbox(world, world.specialist.token, view="INCOMING", first=3, after=after)
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    # then every referral appears once, STAT first, and by due time within a priority
    assert sorted(n["id"] for n in seen) == sorted(r["id"] for r in sent)
    keys = [(RANK[n["priority"]], n["dueAt"]) for n in seen]
    assert keys == sorted(keys)
    assert seen[0]["allowedActions"] == ["CLAIM", "REQUEST_INFO", "ACCEPT", "DECLINE", "ADD_DOCUMENT"]


async def test_filters_narrow_the_inbox_and_counts_feed_the_badges(world: World) -> None:
    # given three sent referrals, one of them accepted, and a draft
    sent = await _sent(world, 3)
    await world.step("ACCEPT", sent[0], world.specialist)
    await world.draft()

    # then filters by status, priority, specialty, patient and provider select the right ones
    async def ids(**filter: Any) -> set[str]:
        page = await _inbox(world, world.referrer.token, view="OUTGOING", filter=filter, first=50)
        return {edge["node"]["id"] for edge in page["edges"]}

    assert await ids(statuses=["ACCEPTED"]) == {sent[0]["id"]}
    assert await ids(priorities=["STAT"]) == {sent[1]["id"]}
    assert len(await ids(specialtyCodes=["cardiology"])) == 4
    assert await ids(specialtyCodes=["dermatology"]) == set()
    assert len(await ids(patientId=world.patient_gid)) == 4
    assert len(await ids(providerId=world.specialist_gid, statuses=["SENT"])) == 2
    assert await ids(overdue=True) == set()
    assert len(await ids(createdFrom="2000-01-01T00:00:00+00:00")) == 4
    assert await ids(createdBefore="2000-01-01T00:00:00+00:00") == set()

    # and the receiving organization's queue and the badges agree
    org = global_id("Organization", world.receiving_org)
    queue = await _inbox(
        world, world.receiving_coordinator.token, view="ORGANIZATION_QUEUE", org=org, first=50
    )
    assert len(queue["edges"]) == 3, "drafts never reach the receiving side"
    counts = await world.api.data(COUNTS, {"view": "OUTGOING"}, token=world.referrer.token)
    assert counts["referralStatusCounts"] == [
        {"status": "DRAFT", "count": 1},
        {"status": "SENT", "count": 2},
        {"status": "ACCEPTED", "count": 1},
    ]


async def test_the_inbox_costs_the_same_number_of_statements_for_any_page_size(world: World) -> None:
    # given twelve referrals in the specialist's inbox, each with a document and a timeline
    for referral in await _sent(world, 12):
        await world.step("ADD_DOCUMENT", referral, world.specialist)

    # when the inbox is read with pages of 2 and of 12, with every nested object
    async def statements(first: int) -> int:
        before = STATEMENTS.count
        page = await _inbox(world, world.specialist.token, view="INCOMING", first=first)
        assert len(page["edges"]) == first
        return STATEMENTS.count - before

    small, large = await statements(2), await statements(12)

    # then both cost the same number of SQL statements (no N+1)
    assert small == large, (small, large)
    assert small <= 20
