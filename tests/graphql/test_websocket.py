"""The WebSocket endpoint speaks graphql-transport-ws only."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory


async def test_connection_init_with_an_access_token_is_acknowledged(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    async with websockets.connect(live_server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"accessToken": tokens.access}}))
        reply = json.loads(await socket.recv())
    assert socket.subprotocol == "graphql-transport-ws"
    assert reply["type"] == "connection_ack"
    assert "accessTokenExpiresAt" in reply["payload"]


@pytest.mark.parametrize("payload", [{}, {"accessToken": "not-a-token"}, {"authorization": "Bearer x.y.z"}])
async def test_connection_init_without_a_valid_token_is_closed_with_4403(
    live_server: LiveServer, payload: dict[str, str]
) -> None:
    async with websockets.connect(live_server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 4403


@pytest.mark.parametrize("offered", [["graphql-ws"], None])
async def test_legacy_or_missing_subprotocol_is_closed_with_4406(
    live_server: LiveServer, offered: list[str] | None
) -> None:
    async with websockets.connect(live_server.ws_url, subprotocols=offered) as socket:  # type: ignore[arg-type]
        assert socket.subprotocol is None, "the legacy protocol is never selected"
        with pytest.raises(websockets.ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 4406


async def test_cross_origin_browser_handshake_is_refused(live_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            live_server.ws_url,
            subprotocols=["graphql-transport-ws"],
            origin="https://evil.example",  # type: ignore[list-item,arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_subscribe_before_init_closes_with_4401(live_server: LiveServer) -> None:
    async with websockets.connect(live_server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        )
        with pytest.raises(websockets.ConnectionClosed):
            await socket.recv()
    assert socket.close_code == 4401


async def test_queries_over_the_websocket_are_refused_without_leaking_internals(
    live_server: LiveServer, api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)
    async with websockets.connect(live_server.ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"accessToken": tokens.access}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "q1", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
        )
        reply = json.loads(await socket.recv())
    assert reply["type"] == "error"
    assert reply["id"] == "q1"
    message = reply["payload"][0]["message"]
    assert "attribute" not in message and "dict" not in message
