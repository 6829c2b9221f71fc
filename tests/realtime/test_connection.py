"""Socket hygiene: bad input gets the protocol's close code or a clear error; sessions end sockets."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest

from backend.accounts.codes import Role
from backend.realtime.events import StreamMessage
from tests.auth.test_access_tokens import TokenForge
from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.graphql_ids import global_id
from tests.support.referrals import World, referral_in
from tests.support.ws import EVENTS, REFERRAL_EVENTS, connect

LOGOUT = "mutation { logout { __typename } }"
DEACTIVATE = """
mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { __typename } }
"""
SET_ROLES = """
mutation($input: SetMembershipRolesInput!) { setMembershipRoles(input: $input) { __typename } }
"""


async def _token(api: Api, factory: Factory) -> str:
    user = await factory.user()
    return (await api.login(user.email, user.password)).access


async def test_a_socket_without_connection_init_is_closed_with_4408(live_server: LiveServer) -> None:
    async with connect(live_server.ws_url, None, init=False) as socket:
        assert await socket.closed_with() == 4408


async def test_subscribing_before_the_ack_is_closed_with_4401(live_server: LiveServer) -> None:
    async with connect(live_server.ws_url, None, init=False) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        assert await socket.closed_with() == 4401


async def test_a_duplicate_operation_id_is_closed_with_4409(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.subscribe("same", EVENTS, {"after": 0})
        await socket.subscribe("same", EVENTS, {"after": 0})
        assert await socket.closed_with() == 4409


@pytest.mark.parametrize("message", [{"type": "shout"}, {"no": "type"}, "not json"])
async def test_unknown_or_malformed_messages_are_closed_with_4400(
    live_server: LiveServer, api: Api, factory: Factory, message: object
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.connection.send(
            message if isinstance(message, str) else __import__("json").dumps(message)
        )
        assert await socket.closed_with() == 4400


async def test_an_oversized_frame_is_closed_with_1009_and_the_server_stays_healthy(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.connection.send("x" * 70_000)
        assert await socket.closed_with() == 1009
    assert (await api.http.get("/healthz")).status_code == 200


async def test_subscriptions_beyond_the_cap_get_an_error(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        for index in range(20):
            await socket.subscribe(str(index), EVENTS, {"after": 0})
        await socket.subscribe("one-too-many", EVENTS, {"after": 0})
        message = await socket.receive()
        assert message["type"] == "error"
        assert message["id"] == "one-too-many"
        assert message["payload"][0]["message"] == "Subscription limit reached"


async def test_invalid_documents_and_arguments_get_clear_errors(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.subscribe("a", "subscription { events { nope } }", {})
        await socket.subscribe("b", EVENTS, {"after": -1})
        await socket.subscribe("c", EVENTS, {"after": "many"})
        await socket.subscribe("d", "query { me { id } }", {})
        replies = {m["id"]: m for m in [await socket.receive() for _ in range(4)]}
        assert all(reply["type"] == "error" for reply in replies.values()), replies
        assert "nope" in replies["a"]["payload"][0]["message"]
        assert "after" in replies["b"]["payload"][0]["message"]


@pytest.mark.parametrize("claims", [{"aud": "another-api"}, {"exp": int(time.time()) - 60}])
async def test_a_token_with_the_wrong_audience_or_expired_is_refused_with_4403(
    live_server: LiveServer, api: Api, factory: Factory, claims: dict[str, object]
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    session = jwt.decode(tokens.access, options={"verify_signature": False})["sid"]
    forged = TokenForge(live_server, user.id, __import__("uuid").UUID(session)).with_claims(**claims)
    async with connect(live_server.ws_url, None, init=False) as socket:
        await socket.send({"type": "connection_init", "payload": {"accessToken": forged}})
        assert await socket.closed_with() == 4403


async def test_the_socket_closes_with_4001_when_its_access_token_expires(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    session = jwt.decode(tokens.access, options={"verify_signature": False})["sid"]
    short = TokenForge(live_server, user.id, __import__("uuid").UUID(session)).with_claims(
        exp=int(time.time()) + 2
    )
    async with connect(live_server.ws_url, short) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        assert await socket.closed_with(within=6) == 4001


async def test_logout_closes_the_socket_with_4002(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    async with connect(live_server.ws_url, tokens.access) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        await api.data(LOGOUT, token=tokens.access)
        assert await socket.closed_with() == 4002


async def test_deactivation_closes_the_socket_with_4002(world: World, api: Api, factory: Factory) -> None:
    admin = await factory.user(world.referring_org, roles=(Role.ORG_ADMIN,))
    admin_token = (await api.login(admin.email, admin.password)).access
    async with connect(world.api.server.ws_url, world.colleague.token) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        result = await api.data(
            DEACTIVATE,
            {
                "input": {
                    "organizationId": global_id("Organization", world.referring_org),
                    "userId": global_id("User", world.colleague.user.id),
                }
            },
            token=admin_token,
        )
        assert result["deactivateUser"]["__typename"] == "DeactivateUserSuccess"
        assert await socket.closed_with() == 4002


async def test_removing_the_membership_that_grants_access_stops_the_referral_subscription(
    world: World, api: Api, factory: Factory
) -> None:
    # given the receiving coordinator follows a referral
    referral = await referral_in(world, "SENT")
    admin = await factory.user(world.receiving_org, roles=(Role.ORG_ADMIN,))
    admin_token = (await api.login(admin.email, admin.password)).access
    async with connect(world.api.server.ws_url, world.receiving_coordinator.token) as socket:
        await socket.subscribe("r", REFERRAL_EVENTS, {"referralId": referral["id"], "after": 0})
        await socket.subscribe("all", EVENTS, {"after": 0})
        sent = await socket.events(2)  # the send reached both subscriptions (the draft was never theirs)
        assert {e["status"] for e in sent} == {"SENT"}
        # when their admin removes the coordinator role
        result = await api.data(
            SET_ROLES,
            {
                "input": {
                    "organizationId": global_id("Organization", world.receiving_org),
                    "userId": global_id("User", world.receiving_coordinator.user.id),
                    "roles": ["SPECIALIST"],
                }
            },
            token=admin_token,
        )
        assert result["setMembershipRoles"]["__typename"] == "SetMembershipRolesSuccess"
        # then the referral subscription ends with NOT_FOUND at once
        ended = await socket.receive()
        assert (ended["id"], ended["type"]) == ("r", "error")
        assert ended["payload"][0]["extensions"]["code"] == "NOT_FOUND"
        # and later changes of the referral no longer reach them
        await world.step("ACCEPT", referral, world.specialist)
        await socket.nothing_more(0.5)


async def test_a_consumer_that_falls_too_far_behind_is_closed_with_4004(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    hub = live_server.app.state.hub  # type: ignore[attr-defined]
    async with connect(live_server.ws_url, tokens.access) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        await asyncio.sleep(0.2)
        # when far more events than the backlog allows arrive at once (the socket cannot keep up)
        hub.deliver(
            StreamMessage(
                event={"eventId": f"e{n}", "type": "REFERRAL_UPDATED", "referralId": None, "version": n},
                sequences={user.id: n + 1},
            )
            for n in range(5_000)
        )
        # then the server drops the socket instead of buffering without bound
        assert await socket.closed_with() == 4004


async def test_the_server_pings_idle_sockets(live_server: LiveServer, api: Api, factory: Factory) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        message = __import__("json").loads(await asyncio.wait_for(socket.connection.recv(), 3))
        assert message == {"type": "ping"}
        await socket.send({"type": "pong"})
        await socket.subscribe("1", EVENTS, {"after": 0})
        await socket.nothing_more(1.5)  # pings are answered by the helper; the socket stays open


async def test_a_second_connection_init_is_closed_with_4429(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    token = await _token(api, factory)
    async with connect(live_server.ws_url, token) as socket:
        await socket.send({"type": "connection_init", "payload": {"accessToken": token}})
        assert await socket.closed_with() == 4429


async def test_a_client_flooding_the_socket_is_closed_with_4005(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    # given a subscribed socket (its burst allowance is 50 messages, then 10 per second)
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        # when the client sends 200 messages at once (pongs: the server answers nothing)
        for _ in range(200):
            await socket.send({"type": "pong"})
        # then the server closes the socket instead of serving them all
        assert await socket.closed_with() == 4005


async def test_a_client_within_the_message_rate_keeps_its_socket(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    # given a subscribed socket
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.subscribe("1", EVENTS, {"after": 0})
        # when the client sends 40 messages at once, then 30 more at 8 per second
        for _ in range(40):
            await socket.send({"type": "pong"})
        for _ in range(30):
            await asyncio.sleep(0.125)
            await socket.send({"type": "pong"})
        # then the socket stays open
        await socket.nothing_more(0.5)


async def test_queries_over_the_socket_are_refused_with_a_clear_error(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    async with connect(live_server.ws_url, await _token(api, factory)) as socket:
        await socket.subscribe("q", "query { me { id } }", {})
        reply = await socket.receive()
        assert reply["type"] == "error"
        assert "POST" in reply["payload"][0]["message"]
        await socket.send({"type": "ping"})
        assert (await socket.receive())["type"] == "pong"
