"""The conversation list: newest activity first, paged, and a fixed number of statements."""

from __future__ import annotations

from typing import Any

from backend.db import STATEMENTS
from tests.support.messaging import CONVERSATIONS, referral_chat
from tests.support.referrals import World, referral_in


async def test_the_list_orders_by_activity_pages_and_costs_the_same_for_any_page_size(world: World) -> None:
    # given eight referral chats, each with a message, the oldest one written to last
    chats = [await referral_chat(world, await referral_in(world, "SENT")) for _ in range(8)]
    for number, chat in enumerate(chats):
        await chat.send(world.referrer, f"message {number}")
    await chats[0].send(world.referrer, "latest")

    async def page(first: int, after: str | None = None) -> tuple[dict[str, Any], int]:
        before = STATEMENTS.count
        data = await world.api.data(
            CONVERSATIONS, {"first": first, "after": after}, token=world.specialist.token
        )
        return data["conversations"], STATEMENTS.count - before

    # when the specialist lists them in pages of 2 and of 8
    small, small_cost = await page(2)
    large, large_cost = await page(8)
    # then the most recently active comes first, with its unread count and last message
    first = large["edges"][0]["node"]
    assert (first["id"], first["lastMessage"]["body"], first["unreadCount"]) == (chats[0].id, "latest", 2)
    assert [e["node"]["id"] for e in large["edges"]] == [chats[0].id, *(c.id for c in reversed(chats[1:]))]
    # and the next page continues where the first stopped
    rest, _ = await page(8, small["pageInfo"]["endCursor"])
    assert [e["node"]["id"] for e in rest["edges"]] == [e["node"]["id"] for e in large["edges"]][2:]
    # and a page of 8 costs the same statements as a page of 2 (no N+1)
    assert small_cost == large_cost, (small_cost, large_cost)
