"""bench-chat's third server: the fixed stack's floor for a send.

Litestar + Strawberry (parser and validation caches) doing exactly the plain side's work and
nothing else::

    POST /execute  mutation sendMessage(input) ─► INSERT one row (asyncpg pool, the plain side's
                   statement) ─► put the event on the recipient's queue ─► answer id
                   (a thin handler like CareLoop's own: msgspec in and out, the schema executed
                   on the event loop; Strawberry's view adds a thread-pool hop and json.dumps)
    WS /graphql    Strawberry's Litestar controller, graphql-transport-ws only: subscription
                   messages(userId) ─► yields each queued event as a ``next`` frame

No authentication, access check, encryption, audit, stream or push decision: the gap between this
side and the plain one is what GraphQL on this stack costs by itself, and the gap between
CareLoop and this side is what CareLoop's own work costs.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import asyncpg
import msgspec
import strawberry
from litestar import Litestar, Request, Response, get, post
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.litestar import make_graphql_controller
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from backend.settings import get_settings

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()
SEND_MESSAGE = """
mutation SendMessage($input: FloorSendInput!) {
  sendMessage(input: $input) { id clientMessageId }
}
"""
MESSAGES = """
subscription Messages($userId: ID!) {
  messages(userId: $userId) { conversationId messageId senderId }
}
"""


@strawberry.type
class FloorEvent:
    conversation_id: strawberry.ID
    message_id: strawberry.ID
    sender_id: strawberry.ID


@strawberry.type
class FloorMessage:
    id: strawberry.ID
    client_message_id: str


@strawberry.input
class FloorSendInput:
    conversation_id: strawberry.ID
    sender_id: strawberry.ID
    recipient_id: strawberry.ID
    client_message_id: str
    body: str


class FloorState:
    """The pool and each listening recipient's queue, for one app."""

    def __init__(self, insert: str) -> None:
        self.insert = insert
        self.queues: dict[str, asyncio.Queue[FloorEvent]] = {}
        self.pool: asyncpg.Pool | None = None


STATE = FloorState("")


@strawberry.type
class Query:
    @strawberry.field
    def sockets(self) -> int:
        return len(STATE.queues)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def send_message(self, input: FloorSendInput) -> FloorMessage:
        assert STATE.pool is not None
        message_id = uuid.uuid4()
        await STATE.pool.execute(
            STATE.insert,
            message_id,
            uuid.UUID(input.conversation_id),
            uuid.UUID(input.sender_id),
            input.client_message_id,
            input.body,
        )
        queue = STATE.queues.get(input.recipient_id)
        if queue is not None:
            queue.put_nowait(
                FloorEvent(
                    conversation_id=input.conversation_id,
                    message_id=strawberry.ID(str(message_id)),
                    sender_id=input.sender_id,
                )
            )
        return FloorMessage(id=strawberry.ID(str(message_id)), client_message_id=input.client_message_id)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def messages(self, user_id: strawberry.ID) -> AsyncGenerator[FloorEvent, None]:
        queue: asyncio.Queue[FloorEvent] = asyncio.Queue()
        STATE.queues[user_id] = queue
        try:
            while True:
                yield await queue.get()
        finally:
            if STATE.queues.get(user_id) is queue:
                del STATE.queues[user_id]


def create_floor_app(insert: str) -> Litestar:
    STATE.insert = insert
    settings = get_settings()
    schema = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[lambda: ParserCache(maxsize=256), lambda: ValidationCache(maxsize=256)],
    )
    controller = make_graphql_controller(
        schema,
        path="/graphql",
        graphql_ide=None,
        allow_queries_via_get=False,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
    )

    async def open_pool() -> None:
        STATE.pool = await asyncpg.create_pool(
            settings.database_url, min_size=settings.postgres_pool_min, max_size=settings.postgres_pool_max
        )
        gc.collect()
        gc.freeze()  # as CareLoop's app does after start-up

    async def close_pool() -> None:
        if STATE.pool is not None:
            await STATE.pool.close()

    @post("/execute", status_code=200)
    async def execute(request: Request[Any, Any, Any]) -> Response[bytes]:
        payload = _decoder.decode(await request.body())
        result = await schema.execute(
            payload["query"],
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [{"message": error.message} for error in result.errors]
        return Response(_encoder.encode(answer), media_type="application/json")

    @get("/status", cache=False)
    async def status() -> dict[str, int]:
        return {"sockets": len(STATE.queues)}

    return Litestar(
        route_handlers=[controller, execute, status],
        signature_namespace={"Any": Any, "Request": Request, "Response": Response},
        on_startup=[open_pool],
        on_shutdown=[close_pool],
        debug=False,
        openapi_config=None,
        logging_config=None,
    )
