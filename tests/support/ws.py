"""A small graphql-transport-ws client over the real `websockets` library, for tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

EVENTS = """
subscription Events($after: Int!) {
  events(after: $after) {
    __typename sequence type referralId version status action
    ... on ReferralStatusChanged { previousStatus reasonCode }
    ... on AppointmentChanged { appointmentStatus startsAt }
    ... on DocumentAdded { documentId kind }
  }
}
"""
REFERRAL_EVENTS = """
subscription ReferralEvents($referralId: ID!, $after: Int!) {
  referralEvents(referralId: $referralId, after: $after) { __typename sequence referralId status version }
}
"""
STREAM_POSITION = "query { streamPosition }"


class Socket:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = 5.0) -> dict[str, Any]:
        """The next message that is not a server ping (pings are answered), within ``within`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            remaining = max(deadline - loop.time(), 0.001)
            message: dict[str, Any] = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def subscribe(self, operation_id: str, query: str, variables: dict[str, Any]) -> None:
        await self.send(
            {"id": operation_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )

    async def events(self, count: int, within: float = 5.0) -> list[dict[str, Any]]:
        """The payload data of the next ``count`` `next` messages."""
        found = []
        while len(found) < count:
            message = await self.receive(within)
            assert message["type"] == "next", message
            found.append(next(iter(message["payload"]["data"].values())))
        return found

    async def nothing_more(self, wait: float = 0.3) -> None:
        """No message but pings arrives for ``wait`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while (remaining := deadline - loop.time()) > 0:
            try:
                message = json.loads(await asyncio.wait_for(self.connection.recv(), remaining))
            except TimeoutError:
                return
            if message["type"] != "ping":
                raise AssertionError(f"unexpected message: {message}")
            await self.send({"type": "pong"})

    async def closed_with(self, within: float = 5.0) -> int | None:
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), within)
        except websockets.ConnectionClosed:
            pass
        return self.connection.close_code


@asynccontextmanager
async def connect(url: str, token: str | None, *, init: bool = True, **kwargs: Any) -> AsyncIterator[Socket]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"], **kwargs) as connection:  # type: ignore[list-item]
        socket = Socket(connection)
        if init:
            await socket.send({"type": "connection_init", "payload": {"accessToken": token}})
            ack = await socket.receive()
            assert ack["type"] == "connection_ack", ack
        yield socket
