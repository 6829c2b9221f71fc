"""The WebSocket side of /graphql: graphql-transport-ws, implemented for the stream subscriptions.

    handshake ─► origin allowed? (else refused: HTTP 403) ─► subprotocol graphql-transport-ws?
        (else accepted and closed 4406)
    connection_init {accessToken} within WS_CONNECTION_INIT_TIMEOUT (else 4408)
        ─► authenticate (4403 if refused) ─► connection_ack {accessTokenExpiresAt}
    every client message: within the socket's rate (WS_MAX_MESSAGES_PER_SECOND, burst
        WS_MESSAGE_BURST)? else closed 4005
    subscribe {events | referralEvents} ─► validated once per document ─► a Subscription in the hub
        ─► one task: replay from the log after `after`, then live (see backend/realtime/hub.py);
           each event rendered once per document (projection.py), only `sequence` and the
           operation id differ per subscriber; frames encoded with msgspec
    housekeeping (one task per process, Hub.housekeep): pings, token expiry (4001), session
        re-check; "access changed" from the bus re-checks at once (4002, or NOT_FOUND per operation)

Only subscriptions run here (queries and mutations go over HTTP, where the unit of work and the
audit live), and the schema has only the four stream subscriptions (events, referralEvents,
conversationEvents, typingIndicators), so this module implements the
protocol itself instead of running Strawberry's per-socket handler: a subscribed socket then costs
a fraction of the memory, and no GraphQL execution happens per event and subscriber. Protocol
behaviour (codes, messages) follows graphql-ws's PROTOCOL.md; close codes for the apps are in
mobile_contract/REALTIME.md.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID

import msgspec
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    OperationType,
    VariableNode,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_argument_values, get_variable_values
from litestar import WebSocket
from strawberry.http.websocket_origin import is_same_origin, normalize_origin

from backend.accounts.actor import Actor
from backend.auth import repository as auth_repository
from backend.auth.errors import NotAuthenticated
from backend.container import Container
from backend.core.clock import utcnow
from backend.graphql.common import uuid_of
from backend.graphql.realtime.projection import Projection
from backend.logging import get_logger
from backend.messaging import access as conversation_access
from backend.messaging.errors import MessagingError
from backend.realtime import repository
from backend.realtime.events import EPHEMERAL_SEQUENCE, replayed
from backend.realtime.hub import CHAT_FAMILY, REFERRAL_FAMILY, TYPING_FAMILY, Hub, Subscription
from backend.referrals import access
from backend.referrals.errors import ReferralError

logger = get_logger(__name__)

PROTOCOL = "graphql-transport-ws"
STREAM_FIELDS = frozenset({"events", "referralEvents", "conversationEvents", "typingIndicators"})
SCOPES = {  # root field ─► (family, scope argument, global id type)
    "events": (REFERRAL_FAMILY, None, None),
    "referralEvents": (REFERRAL_FAMILY, "referralId", "Referral"),
    "conversationEvents": (CHAT_FAMILY, "conversationId", "Conversation"),
    "typingIndicators": (TYPING_FAMILY, "conversationId", "Conversation"),
}
REPLAY_PAGE = 500
MAX_DOCUMENT_CHARS = 8_000
MAX_OPERATION_ID_CHARS = 128
SESSION_RECHECK_SECONDS = 60.0
MAX_CACHED_DOCUMENTS = 256
STREAM_TASK_NAME = "careloop-stream"  # one shared name, not a new string per task


class CloseCode:
    ACCESS_TOKEN_EXPIRED = 4001
    SESSION_ENDED = 4002
    SLOW_CONSUMER = 4004
    TOO_MANY_MESSAGES = 4005
    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    INIT_TIMEOUT = 4408
    SUBSCRIBER_EXISTS = 4409
    TOO_MANY_INITIALISATION_REQUESTS = 4429


@dataclass(frozen=True, slots=True)
class RealtimeConfig:
    container: Container
    hub: Hub
    schema: GraphQLSchema
    allowed_origins: frozenset[str]
    init_timeout: float
    ping_interval: float
    max_backlog: int
    max_operations: int
    message_rate: float  # messages a client may send per second, on average …
    message_burst: float  # … and at once
    on_live_delivery: LiveDelivery  # an event with ``pushUsers`` reached (event, user, device) live


@dataclass(slots=True)
class StreamOperation:
    task: asyncio.Task[None]
    subscription: Subscription | None = None
    scope: tuple[str, UUID] | None = None


LiveDelivery = Callable[[dict[str, Any], UUID, str | None], None]
_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class ProtocolViolation(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def serve_socket(socket: WebSocket[Any, Any, Any], config: RealtimeConfig) -> Coroutine[Any, Any, None]:
    """The whole life of one WebSocket on /graphql (returns the coroutine to await: one frame
    less held by every open socket)."""
    return RealtimeConnection(socket, config).serve()


class RealtimeConnection:
    __slots__ = (
        "_allowance",
        "_allowance_at",
        "_closing",
        "_expires_at",
        "_next_check",
        "_next_ping",
        "_recheck_task",
        "_tasks",
        "actor",
        "config",
        "device_id",
        "initialised",
        "operations",
        "socket",
    )

    def __init__(self, socket: WebSocket[Any, Any, Any], config: RealtimeConfig) -> None:
        self.socket = socket
        self.config = config
        self.actor: Actor | None = None
        self.device_id: str | None = None
        self.initialised = False
        self.operations: dict[str, StreamOperation] = {}
        self._tasks: set[asyncio.Task[None]] | None = None  # created on first use
        self._recheck_task: asyncio.Task[None] | None = None
        self._closing = False
        self._expires_at = self._next_ping = self._next_check = 0.0
        self._allowance, self._allowance_at = config.message_burst, 0.0  # a full bucket

    @property
    def user_id(self) -> UUID:
        assert self.actor is not None
        return self.actor.user_id

    # --- the receive loop ---------------------------------------------------------------

    async def serve(self) -> None:
        socket = self.socket
        if not _origin_allowed(socket, self.config.allowed_origins):
            await socket.close(code=1008)  # before accept: the server answers the handshake with 403
            return
        if PROTOCOL not in (socket.scope.get("subprotocols") or []):
            await socket.accept()
            await socket.close(code=CloseCode.SUBPROTOCOL_NOT_ACCEPTABLE, reason="Subprotocol not acceptable")
            return
        await socket.accept(subprotocols=PROTOCOL)
        loop = asyncio.get_running_loop()
        init_deadline = loop.time() + self.config.init_timeout
        try:
            while True:
                if self.actor is None:
                    remaining = init_deadline - loop.time()
                    if remaining <= 0:
                        raise ProtocolViolation(CloseCode.INIT_TIMEOUT, "Connection initialisation timeout")
                    try:
                        message = await asyncio.wait_for(self.socket.receive(), remaining)
                    except TimeoutError:
                        raise ProtocolViolation(
                            CloseCode.INIT_TIMEOUT, "Connection initialisation timeout"
                        ) from None
                else:
                    message = await self.socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                if not self._admit(loop.time()):
                    raise ProtocolViolation(CloseCode.TOO_MANY_MESSAGES, "Too many messages")
                await self._handle(_decode(cast("dict[str, Any]", message)))
        except ProtocolViolation as violation:
            await self._close(violation.code, violation.reason)
        finally:
            self.shutdown()

    def _admit(self, now: float) -> bool:
        """A token bucket over every message the client sends: ``message_burst`` at once, then
        ``message_rate`` per second (each subscribe replays from the database)."""
        config = self.config
        refilled = self._allowance + (now - self._allowance_at) * config.message_rate
        allowance = min(config.message_burst, refilled)
        admitted = allowance >= 1
        self._allowance, self._allowance_at = allowance - 1 if admitted else allowance, now
        return admitted

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "connection_init":
            await self._connection_init(message)
        elif kind == "ping":
            await self._send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "subscribe":
            await self._subscribe(message)
        elif kind == "complete":
            self._complete(_operation_id(message))
        else:
            raise ProtocolViolation(CloseCode.BAD_REQUEST, f"Unknown message type: {str(kind)[:40]!r}")

    async def _connection_init(self, message: dict[str, Any]) -> None:
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            raise ProtocolViolation(CloseCode.BAD_REQUEST, "Invalid connection init payload")
        if self.initialised:
            raise ProtocolViolation(
                CloseCode.TOO_MANY_INITIALISATION_REQUESTS, "Too many initialisation requests"
            )
        self.initialised = True
        token = payload.get("accessToken") or str(payload.get("authorization", "")).removeprefix("Bearer ")
        actor = None
        if isinstance(token, str) and token:
            with contextlib.suppress(NotAuthenticated):
                actor = await self.config.container.auth.authenticate(token)
        if actor is None:
            raise ProtocolViolation(CloseCode.FORBIDDEN, "Forbidden")
        self.actor = actor
        self.device_id = await auth_repository.session_device_id(actor.session_id)
        now = asyncio.get_running_loop().time()
        self._expires_at = now + (actor.access_expires_at - utcnow()).total_seconds()
        self._next_ping = now + self.config.ping_interval
        self._next_check = now + SESSION_RECHECK_SECONDS
        self.config.hub.watch(self)
        await self._send(
            {
                "type": "connection_ack",
                "payload": {"accessTokenExpiresAt": actor.access_expires_at.isoformat()},
            }
        )

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if self.actor is None:
            raise ProtocolViolation(CloseCode.UNAUTHORIZED, "Unauthorized")
        operation_id = _operation_id(message)
        payload = message.get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            raise ProtocolViolation(CloseCode.BAD_REQUEST, "Invalid subscribe payload")
        if operation_id in self.operations:
            raise ProtocolViolation(
                CloseCode.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists"
            )
        if len(self.operations) >= self.config.max_operations:
            await self._send_errors(operation_id, [GraphQLError("Subscription limit reached")])
            return
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            raise ProtocolViolation(CloseCode.BAD_REQUEST, "Invalid subscribe payload")
        prepared = self._prepare(payload["query"], payload.get("operationName"), variables)
        if isinstance(prepared, list):
            await self._send_errors(operation_id, prepared)
            return
        task = asyncio.create_task(self._stream(operation_id, *prepared), name=STREAM_TASK_NAME)
        self.operations[operation_id] = StreamOperation(task)

    def _complete(self, operation_id: str) -> None:
        operation = self.operations.pop(operation_id, None)
        if operation is not None:
            operation.task.cancel()

    def _forget(self, operation_id: str) -> None:
        """A subscription's task ended on its own: free its id (unless a new one took it)."""
        found = self.operations.get(operation_id)
        if found is not None and found.task is asyncio.current_task():
            del self.operations[operation_id]

    def shutdown(self) -> None:
        if self.actor is not None:
            self.config.hub.unwatch(self)
        for operation in self.operations.values():
            operation.task.cancel()
        for task in self._tasks or ():
            task.cancel()

    # --- preparing a subscription -------------------------------------------------------

    def _prepare(
        self, query: str, operation_name: Any, variables: dict[str, Any]
    ) -> tuple[Projection, dict[str, Any]] | list[GraphQLError]:
        if len(query) > MAX_DOCUMENT_CHARS:
            return [GraphQLError(f"Documents are limited to {MAX_DOCUMENT_CHARS} characters.")]
        schema = self.config.schema
        try:
            document, errors = _checked_document(schema, query)
        except GraphQLSyntaxError as error:
            raise ProtocolViolation(CloseCode.BAD_REQUEST, error.message[:120]) from None
        if errors:
            return errors
        definition = get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
        if definition is None:
            return [GraphQLError("Name the operation to run (operationName).")]
        root = definition.selection_set.selections[0]
        if definition.operation != OperationType.SUBSCRIPTION or not isinstance(root, FieldNode):
            return [
                GraphQLError(
                    "Only subscriptions run over the WebSocket: send queries and mutations with POST."
                )
            ]
        if root.name.value not in STREAM_FIELDS:  # pragma: no cover - the schema has only these
            return [GraphQLError(f"Unknown subscription {root.name.value}.")]
        coerced = get_variable_values(schema, definition.variable_definitions or (), variables)
        if isinstance(coerced, list):
            return coerced
        assert schema.subscription_type is not None
        arguments = get_argument_values(schema.subscription_type.fields[root.name.value], root, coerced)
        if arguments.get("after", 0) < 0:
            return [GraphQLError("`after` must be 0 or a sequence you received.")]
        return _projection(
            query,
            operation_name=operation_name,
            variables=variables,
            document=document,
            definition=definition,
            coerced=coerced,
            root=root,
        ), arguments

    # --- a running stream ---------------------------------------------------------------

    async def _open(
        self, operation_id: str, projection: Projection, arguments: dict[str, Any]
    ) -> Subscription | None:
        """The subscription of an operation, after its access check (None: it already ended)."""
        actor = self.actor
        assert actor is not None
        family, argument, type_name = SCOPES[projection.root_field.name.value]
        scope: tuple[str, UUID] | None = None
        if argument is not None and type_name is not None and arguments.get(argument) is not None:
            scope_id = uuid_of(arguments[argument], type_name)
            if scope_id is None or not await self._may_see(actor, (type_name, scope_id)):
                self._forget(operation_id)
                await self._send_errors(operation_id, [_not_found()])
                return None
            scope = (type_name, scope_id)
        operation = self.operations.get(operation_id)
        if operation is None:
            return None  # completed by the client before it started
        subscription = Subscription(
            actor.user_id,
            arguments.get("after", 0),
            family,
            str(scope[1]) if scope else None,
            max_backlog=self.config.max_backlog,
            on_overflow=self._slow_consumer,
        )
        operation.subscription, operation.scope = subscription, scope
        return subscription

    async def _stream(self, operation_id: str, projection: Projection, arguments: dict[str, Any]) -> None:
        """The life of one subscription (its task): replay from the log, then live."""
        subscription = await self._open(operation_id, projection, arguments)
        if subscription is None:
            return
        hub = self.config.hub
        hub.subscribe(subscription)
        durable = subscription.family is not TYPING_FAMILY
        try:
            if durable:
                await self._catch_up(operation_id, projection, subscription)
            while True:
                await subscription.ready()
                if subscription.overflowed:
                    return
                if subscription.needs_resync:
                    subscription.needs_resync = False
                    if durable:
                        await self._catch_up(operation_id, projection, subscription)
                await self._consume(operation_id, projection, subscription, durable=durable)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.error("realtime.stream_failed", error_type=type(error).__name__)
            with contextlib.suppress(Exception):
                await self._send_errors(operation_id, [GraphQLError("Internal server error.")])
        finally:
            hub.unsubscribe(subscription)
            self._forget(operation_id)

    async def _consume(
        self, operation_id: str, projection: Projection, subscription: Subscription, *, durable: bool
    ) -> None:
        """Send what the bus offered: ephemeral items as they are, stream items in order."""
        for sequence, event in subscription.take():
            if sequence == EPHEMERAL_SEQUENCE:
                if subscription.wants(event):
                    await self._send_event(operation_id, projection, event, sequence)
            elif not durable or sequence <= subscription.last_sequence:
                continue
            elif sequence == subscription.last_sequence + 1:
                await self._deliver(operation_id, projection, subscription, sequence, event)
            else:
                await self._catch_up(operation_id, projection, subscription)

    async def _catch_up(self, operation_id: str, projection: Projection, subscription: Subscription) -> None:
        """Send what the log holds after the last sequence sent (the database is the truth)."""
        while True:
            rows = await repository.events_after(
                subscription.user_id, subscription.last_sequence, limit=REPLAY_PAGE
            )
            for row in rows:
                sequence, event = replayed(row)
                await self._deliver(operation_id, projection, subscription, sequence, event)
            if len(rows) < REPLAY_PAGE:
                return

    async def _deliver(
        self,
        operation_id: str,
        projection: Projection,
        subscription: Subscription,
        sequence: int,
        event: dict[str, Any],
    ) -> None:
        subscription.last_sequence = sequence
        if subscription.wants(event):
            await self._send_event(operation_id, projection, event, sequence)

    async def _send_event(
        self, operation_id: str, projection: Projection, event: dict[str, Any], sequence: int
    ) -> None:
        if "pushUsers" in event and self.actor is not None:
            self.config.on_live_delivery(event, self.actor.user_id, self.device_id)
        data, sequence_keys = projection.render(event)
        if sequence_keys:
            data = {**data, **dict.fromkeys(sequence_keys, sequence)}
        await self._send(
            {"id": operation_id, "type": "next", "payload": {"data": {projection.root_key: data}}}
        )

    # --- session and access -------------------------------------------------------------

    def tick(self, now: float) -> None:
        """About once a second, from the hub's one housekeeping task: expiry, pings, re-checks."""
        if self._closing:
            return
        if now >= self._expires_at:
            self._closing = True
            self._background(
                self._close(CloseCode.ACCESS_TOKEN_EXPIRED, "access token expired: refresh, reconnect")
            )
            return
        if now >= self._next_ping:
            self._next_ping = now + self.config.ping_interval
            self._background(self._send({"type": "ping"}))
        if now >= self._next_check:
            self._next_check = now + SESSION_RECHECK_SECONDS
            self._background(self._recheck())

    def access_changed(self) -> None:
        """The bus says this user's session or access may have changed: re-check now."""
        if self._recheck_task is None or self._recheck_task.done():
            self._recheck_task = asyncio.create_task(self._recheck())

    async def _recheck(self) -> None:
        actor = None
        if self.actor is not None:
            with contextlib.suppress(NotAuthenticated):
                actor = await self.config.container.auth.reauthenticate(self.actor)
        if actor is None:
            expired = self.actor is not None and self.actor.access_expires_at <= utcnow()
            if expired:
                await self._close(CloseCode.ACCESS_TOKEN_EXPIRED, "access token expired: refresh, reconnect")
            else:
                await self._close(CloseCode.SESSION_ENDED, "session ended: sign in again")
            return
        self.actor = actor
        for operation_id, operation in list(self.operations.items()):
            if operation.scope is not None and not await self._may_see(actor, operation.scope):
                self._complete(operation_id)
                await self._send_errors(operation_id, [_not_found()])

    async def _may_see(self, actor: Actor, scope: tuple[str, UUID]) -> bool:
        type_name, scope_id = scope
        try:
            if type_name == "Referral":
                await access.access_referral(actor, scope_id)
            else:
                await conversation_access.access_conversation(actor, scope_id)
        except (ReferralError, MessagingError):
            return False
        return True

    def _slow_consumer(self) -> None:
        """A subscription's backlog overflowed (the client stopped reading): drop the socket."""
        for operation in self.operations.values():
            if operation.subscription is not None:
                operation.subscription.items.clear()
        self._background(self._close(CloseCode.SLOW_CONSUMER, "too far behind: reconnect and resume"))

    # --- sending ------------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        await self.socket.send_data(data=_encoder.encode(message).decode())

    async def _send_errors(self, operation_id: str, errors: list[GraphQLError]) -> None:
        await self._send({"id": operation_id, "type": "error", "payload": [e.formatted for e in errors]})

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.socket.close(code=code, reason=reason), timeout=5)

    def _background(self, coroutine: Any) -> None:
        if self._tasks is None:
            self._tasks = set()
        task = asyncio.create_task(_quietly(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _quietly(coroutine: Any) -> None:
    with contextlib.suppress(Exception):
        await coroutine


def _decode(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if text is None:
        raise ProtocolViolation(CloseCode.BAD_REQUEST, "WebSocket message type must be text")
    try:
        decoded = _decoder.decode(text)
    except msgspec.DecodeError:
        raise ProtocolViolation(CloseCode.BAD_REQUEST, "WebSocket message must be valid JSON") from None
    if not isinstance(decoded, dict):
        raise ProtocolViolation(CloseCode.BAD_REQUEST, "WebSocket message must be a JSON object")
    return decoded


def _operation_id(message: dict[str, Any]) -> str:
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not operation_id or len(operation_id) > MAX_OPERATION_ID_CHARS:
        raise ProtocolViolation(CloseCode.BAD_REQUEST, "Invalid operation id")
    return operation_id


def _origin_allowed(socket: WebSocket[Any, Any, Any], allowed: frozenset[str]) -> bool:
    """Browsers always send Origin on WebSocket handshakes; native apps send none.

    Reads the raw ASGI headers: building Litestar's Headers object would keep ~1.7 KiB per socket.
    """
    wanted = {b"origin": "", b"host": "", b"sec-fetch-site": ""}
    for name, value in socket.scope["headers"]:
        if name in wanted:
            wanted[name] = value.decode("latin-1")
    origin = wanted[b"origin"]
    if not origin:
        return True
    if wanted[b"sec-fetch-site"] == "same-origin" or is_same_origin(origin, wanted[b"host"] or None):
        return True
    return normalize_origin(origin) in allowed


def _not_found() -> GraphQLError:
    return GraphQLError("Not found.", extensions={"code": "NOT_FOUND"})


_checked: dict[str, tuple[DocumentNode, list[GraphQLError]]] = {}
_projections: dict[tuple[str, str | None, str], Projection] = {}


def _checked_document(schema: GraphQLSchema, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
    """Parsed and validated once per document text (the apps send the same few documents)."""
    found = _checked.get(query)
    if found is None:
        document = parse(query)
        found = (document, list(validate(schema, document)))
        if len(_checked) < MAX_CACHED_DOCUMENTS:
            _checked[query] = found
    return found


def _projection(
    query: str,
    *,
    operation_name: Any,
    variables: dict[str, Any],
    document: DocumentNode,
    definition: Any,
    coerced: Any,
    root: FieldNode,
) -> Projection:
    """One projection per document and directive variables, shared by every subscription using it
    (the root field's own arguments, such as ``after``, do not change how events render)."""
    argument_variables = {
        argument.value.name.value
        for argument in root.arguments or ()
        if isinstance(argument.value, VariableNode)
    }
    rendering = {k: v for k, v in variables.items() if k not in argument_variables}
    name = operation_name if isinstance(operation_name, str) else None
    key = (query, name, _encoder.encode(rendering).decode())
    found = _projections.get(key)
    if found is None:
        found = Projection(document, definition, coerced)
        if len(_projections) < MAX_CACHED_DOCUMENTS:
            _projections[key] = found
    return found
