"""What one send costs in SQL statements (BEGIN and COMMIT not counted), per engine.

A send is the hottest write: its statements are its latency (see ``make bench-chat``). The
budgets below are what it takes today; a change that adds a statement has to raise them here.
"""

from __future__ import annotations

from typing import Any

from backend.db import STATEMENTS
from tests.conftest import TEST_DATABASE
from tests.support.graphql_ids import global_id
from tests.support.messaging import START, Chat, referral_chat
from tests.support.push import new_token, register
from tests.support.referrals import Person, World, referral_in

# authenticate (session, user, roles and provider entries in one), the conversation with its
# members and their names, number + insert + sender's markers (PostgreSQL: one; SQLite:
# three), push devices, stream cursors + events (PostgreSQL: one; SQLite: two), the audit
# chain's head (locked) and the insert that moves it (SQLite: two). Before 2026-12-03 it was 17
# on PostgreSQL.
DIRECT_SEND = {"postgres": 7, "sqlite": 11}
# a referral chat also reads the referral's access row, the memberships and providers behind its
# parties (who receives the event; one statement since 2026-12-04, was two) and the members'
# names for the answer
REFERRAL_SEND = {"postgres": 10, "sqlite": 14}
# a recipient with a registered device adds the outbox insert (their devices, push settings and
# badge counts are the one read every send does; the badge was a statement of its own until
# 2026-12-04)
DIRECT_SEND_TO_A_DEVICE = {"postgres": 8, "sqlite": 12}


def _gid(person: Person) -> str:
    return global_id("User", person.user.id)


async def _direct_chat(world: World) -> Chat:
    """The referrer and the specialist, whose organizations share a sent referral."""
    await referral_in(world, "SENT")
    started = await world.api.data(
        START,
        {"input": {"kind": "DIRECT", "memberIds": [_gid(world.specialist)]}},
        token=world.referrer.token,
    )
    return Chat(world, started["startConversation"]["conversation"])


async def _cost_of_send(chat: Chat, world: World) -> tuple[dict[str, Any], int]:
    before = STATEMENTS.count
    sent = await chat.send(world.referrer, "What does one send cost?")
    return sent, STATEMENTS.count - before


async def test_a_direct_send_costs_a_fixed_number_of_statements(world: World) -> None:
    # given a direct conversation between the referrer and the specialist, with one message
    chat = await _direct_chat(world)
    await chat.send(world.referrer, "warm-up")
    # when the referrer sends another
    sent, cost = await _cost_of_send(chat, world)
    # then it is stored and costs the budgeted statements, no more
    assert sent["body"] == "What does one send cost?"
    assert cost <= DIRECT_SEND[TEST_DATABASE], cost


async def test_a_direct_send_to_a_member_with_a_device_costs_two_statements_more(world: World) -> None:
    # given a direct conversation whose other member has a phone registered for pushes
    chat = await _direct_chat(world)
    specialist = world.specialist.user
    phone = await world.api.login(specialist.email, specialist.password, device_id="phone")
    await register(world.api, phone.access, new_token())
    await chat.send(world.referrer, "warm-up")
    # when the referrer sends another
    sent, cost = await _cost_of_send(chat, world)
    # then it is stored and costs the budgeted statements, no more
    assert sent["body"] == "What does one send cost?"
    assert cost <= DIRECT_SEND_TO_A_DEVICE[TEST_DATABASE], cost


async def test_a_referral_chat_send_costs_a_fixed_number_of_statements(world: World) -> None:
    # given a referral chat with one message
    chat = await referral_chat(world, await referral_in(world, "SENT"))
    await chat.send(world.referrer, "warm-up")
    # when the referrer sends another
    sent, cost = await _cost_of_send(chat, world)
    # then it is stored and costs the budgeted statements, no more
    assert sent["body"] == "What does one send cost?"
    assert cost <= REFERRAL_SEND[TEST_DATABASE], cost
