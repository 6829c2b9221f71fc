"""The graphql-transport-ws handler: authenticated sockets serving the stream subscriptions.

    connection_init {accessToken} ──► authenticate (4403 if refused) ──► connection_ack
        ├─ housekeeping (one task per process, see Hub.housekeep): close 4001 when the access
        │  token expires; ping every PING_INTERVAL seconds; re-check the session every minute
        └─ access watch: logout, deactivation, password change, role change ─► re-check at once
               session gone ─► close 4002 · a referral no longer visible ─► its operation errors
    subscribe {events | referralEvents} ──► validate once per document ─► Subscription in the hub
        ─► replay from the database after `after` ─► live (see backend/realtime/hub.py)
        ─► each event rendered once per document (projection.py); per subscriber only the
           sequence and the operation id differ; frames are encoded with msgspec
    anything else ──► Strawberry's own handling (queries and mutations are refused: use HTTP)

Close codes are listed in mobile_contract/REALTIME.md with what the app does on each.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any
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
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from backend.accounts.principal import Principal
from backend.auth.errors import NotAuthenticated
from backend.container import Container
from backend.core.clock import utcnow
from backend.graphql.common import uuid_of
from backend.graphql.realtime.projection import Projection
from backend.logging import get_logger
from backend.realtime import repository
from backend.realtime.events import replayed
from backend.realtime.hub import Hub, Subscription
from backend.referrals import access
from backend.referrals.errors import ReferralError

logger = get_logger(__name__)

STREAM_FIELDS = frozenset({"events", "referralEvents"})
REPLAY_PAGE = 500
MAX_DOCUMENT_CHARS = 8_000
PING_INTERVAL_SECONDS = 20.0
SESSION_RECHECK_SECONDS = 60.0


class CloseCode:
    ACCESS_TOKEN_EXPIRED = 4001
    SESSION_ENDED = 4002
    SLOW_CONSUMER = 4004


@dataclass(slots=True)
class StreamOperation:
    subscription: Subscription
    referral_id: UUID | None


_encoder = msgspec.json.Encoder()


class CareLoopTransportWSHandler(BaseGraphQLTransportWSHandler[Any, Any]):
    """One socket. Strawberry's handler does the protocol; this adds the stream and the watch.

    Bound to one app by :func:`bind_handler` (its container and hub are class attributes).
    """

    container: Container
    hub: Hub
    ping_interval: float = PING_INTERVAL_SECONDS
    max_backlog: int = 1_000

    # --- connection ---------------------------------------------------------------------

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.principal is not None:
            self.context.pop("connection_params", None)  # the token is kept once, as access_token
            self._streams: dict[str, StreamOperation] = {}
            self._tasks: set[asyncio.Task[None]] = set()
            self._recheck_task: asyncio.Task[None] | None = None
            self.hub.watch(self)
            now = asyncio.get_running_loop().time()
            self._expires_at = now + (self.principal.access_expires_at - utcnow()).total_seconds()
            self._next_ping = now + self.ping_interval
            self._next_check = now + SESSION_RECHECK_SECONDS
            self._closing = False

    async def shutdown(self) -> None:
        if self.connection_acknowledged and self.principal is not None:
            self.hub.unwatch(self)
            for task in list(self._tasks):
                task.cancel()
        await super().shutdown()

    @property
    def principal(self) -> Principal | None:
        found = self.context.get("principal") if isinstance(self.context, dict) else None
        return found if isinstance(found, Principal) else None

    @property
    def user_id(self) -> UUID:
        assert self.principal is not None
        return self.principal.user_id

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code=code, reason=reason), timeout=5)

    def _slow_consumer(self) -> None:
        """A subscription's backlog overflowed (the client stopped reading): drop the socket."""
        for stream in self._streams.values():
            stream.subscription.items.clear()
        self._background(self._close(CloseCode.SLOW_CONSUMER, "too far behind: reconnect and resume"))

    def _background(self, coroutine: Any) -> None:
        task = asyncio.create_task(self._quietly(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _quietly(coroutine: Any) -> None:
        with contextlib.suppress(Exception):
            await coroutine

    def tick(self, now: float) -> None:
        """Called about once a second by the hub's housekeeping task (one task per process, not
        per socket): token expiry, pings, the periodic session re-check."""
        if self._closing:
            return
        if now >= self._expires_at:
            self._closing = True
            self._background(
                self._close(CloseCode.ACCESS_TOKEN_EXPIRED, "access token expired: refresh, reconnect")
            )
            return
        if now >= self._next_ping:
            self._next_ping = now + self.ping_interval
            self._background(self.send_message({"type": "ping"}))
        if now >= self._next_check:
            self._next_check = now + SESSION_RECHECK_SECONDS
            self._background(self._recheck())

    def access_changed(self) -> None:
        """Called by the hub when this user's session or access may have changed."""
        if self._recheck_task is None or self._recheck_task.done():
            self._recheck_task = asyncio.create_task(self._recheck())

    async def _recheck(self) -> None:
        token = self.context.get("access_token")
        try:
            principal = await self.container.auth.authenticate(token) if token else None
        except NotAuthenticated:
            principal = None
        if principal is None:
            current = self.principal
            if current is not None and current.access_expires_at <= utcnow():
                await self._close(CloseCode.ACCESS_TOKEN_EXPIRED, "access token expired: refresh, reconnect")
            else:
                await self._close(CloseCode.SESSION_ENDED, "session ended: sign in again")
            return
        self.context["principal"] = principal
        for operation_id, stream in list(self._streams.items()):
            if stream.referral_id is not None and not await self._may_see(principal, stream.referral_id):
                await self._end_operation(operation_id, [_not_found()])

    async def _may_see(self, principal: Principal, referral_id: UUID) -> bool:
        try:
            await access.access_referral(await access.viewer_for(principal), referral_id)
        except ReferralError:
            return False
        return True

    async def _end_operation(self, operation_id: str, errors: list[GraphQLError]) -> None:
        operation = self.operations.get(operation_id)
        if operation is not None:
            await operation.send_initial_errors(errors)
            if operation.task is not None:
                operation.task.cancel()

    # --- operations ---------------------------------------------------------------------

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        prepared = self._prepare(operation)
        if prepared is None:
            await super().run_operation(operation)
            return
        try:
            if isinstance(prepared, list):
                await operation.send_initial_errors(prepared)
                return
            await self._stream(operation, *prepared)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            logger.error("realtime.stream_failed", error_type=type(error).__name__)
            with contextlib.suppress(Exception):
                await operation.send_initial_errors([GraphQLError("Internal server error.")])

    def _prepare(
        self, operation: Operation[Any, Any]
    ) -> tuple[Projection, dict[str, Any]] | list[GraphQLError] | None:
        """A stream subscription's projection and arguments, its errors, or None for the rest."""
        schema: GraphQLSchema = self.schema._schema  # type: ignore[attr-defined]
        if len(operation.query) > MAX_DOCUMENT_CHARS:
            return [GraphQLError(f"Documents are limited to {MAX_DOCUMENT_CHARS} characters.")]
        try:
            document = _parse(operation.query)
        except GraphQLSyntaxError:
            return None
        cached = _checked.get(operation.query)
        if cached is not None:
            operation.query = cached[2]  # one copy of the document text per process, not per socket
        definition = get_operation_ast(document, operation.operation_name)
        if definition is None or definition.operation != OperationType.SUBSCRIPTION:
            return None
        root = definition.selection_set.selections[0] if definition.selection_set.selections else None
        if not isinstance(root, FieldNode) or root.name.value not in STREAM_FIELDS:
            return None
        errors = _validate(schema, document, operation.query)
        if errors:
            return errors
        variables = get_variable_values(
            schema, definition.variable_definitions or (), operation.variables or {}
        )
        if isinstance(variables, list):
            return variables
        assert schema.subscription_type is not None
        field = schema.subscription_type.fields[root.name.value]
        arguments = get_argument_values(field, root, variables)
        if arguments.get("after", 0) < 0:
            return [GraphQLError("`after` must be 0 or a sequence you received.")]
        return _projection(operation, document, definition, variables, root), arguments

    async def _stream(
        self, operation: Operation[Any, Any], projection: Projection, arguments: dict[str, Any]
    ) -> None:
        principal = self.principal
        assert principal is not None
        referral_id: UUID | None = None
        if projection.root_field.name.value == "referralEvents":
            referral_id = uuid_of(arguments["referralId"], "Referral")
            if referral_id is None or not await self._may_see(principal, referral_id):
                await operation.send_initial_errors([_not_found()])
                return
        subscription = Subscription(
            principal.user_id,
            arguments.get("after", 0),
            str(referral_id) if referral_id else None,
            max_backlog=self.max_backlog,
            on_overflow=self._slow_consumer,
        )
        self._streams[operation.id] = StreamOperation(subscription, referral_id)
        self.hub.subscribe(subscription)
        try:
            await self._catch_up(operation, projection, subscription)
            while True:
                await subscription.wait()
                if subscription.overflowed:
                    return
                if subscription.needs_resync:
                    subscription.needs_resync = False
                    await self._catch_up(operation, projection, subscription)
                while subscription.items:
                    sequence, event = subscription.items.popleft()
                    if sequence <= subscription.last_sequence:
                        continue
                    if sequence == subscription.last_sequence + 1:
                        await self._deliver(operation, projection, subscription, sequence, event)
                    else:
                        await self._catch_up(operation, projection, subscription)
        finally:
            self.hub.unsubscribe(subscription)
            self._streams.pop(operation.id, None)

    async def _catch_up(
        self, operation: Operation[Any, Any], projection: Projection, subscription: Subscription
    ) -> None:
        """Send what the database holds after the last sequence sent (the truth)."""
        while True:
            rows = await repository.events_after(
                subscription.user_id, subscription.last_sequence, limit=REPLAY_PAGE
            )
            for row in rows:
                sequence, event = replayed(row)
                await self._deliver(operation, projection, subscription, sequence, event)
            if len(rows) < REPLAY_PAGE:
                return

    async def _deliver(
        self,
        operation: Operation[Any, Any],
        projection: Projection,
        subscription: Subscription,
        sequence: int,
        event: dict[str, Any],
    ) -> None:
        subscription.last_sequence = sequence
        if not subscription.wants(event):
            return
        data, sequence_keys = projection.render(event)
        if sequence_keys:
            data = {**data, **dict.fromkeys(sequence_keys, sequence)}
        frame = _encoder.encode(
            {"id": operation.id, "type": "next", "payload": {"data": {projection.root_key: data}}}
        )
        await self.websocket.ws.send_data(data=frame.decode())  # type: ignore[attr-defined]


def bind_handler(
    container: Container, hub: Hub, *, ping_interval: float, max_backlog: int
) -> type[CareLoopTransportWSHandler]:
    return type(
        "BoundTransportWSHandler",
        (CareLoopTransportWSHandler,),
        {"container": container, "hub": hub, "ping_interval": ping_interval, "max_backlog": max_backlog},
    )


_projections: dict[tuple[str, str | None, str], Projection] = {}


def _projection(
    operation: Operation[Any, Any],
    document: DocumentNode,
    definition: Any,
    variables: Any,
    root: FieldNode,
) -> Projection:
    """One projection per document and directive variables, shared by every subscription using it
    (the root field's own arguments, such as ``after``, do not change how events render)."""
    argument_variables = {
        argument.value.name.value
        for argument in root.arguments or ()
        if isinstance(argument.value, VariableNode)
    }
    rendering_variables = {
        k: v for k, v in (operation.variables or {}).items() if k not in argument_variables
    }
    key = (operation.query, operation.operation_name, _encoder.encode(rendering_variables).decode())
    found = _projections.get(key)
    if found is None:
        found = Projection(document, definition, variables)
        if len(_projections) < MAX_CACHED_DOCUMENTS:
            _projections[key] = found
    return found


def _not_found() -> GraphQLError:
    return GraphQLError("Not found.", extensions={"code": "NOT_FOUND"})


_checked: dict[str, tuple[DocumentNode, list[GraphQLError], str]] = {}
MAX_CACHED_DOCUMENTS = 256


def _parse(query: str) -> DocumentNode:
    found = _checked.get(query)
    return found[0] if found else parse(query)


def _validate(schema: GraphQLSchema, document: DocumentNode, query: str) -> list[GraphQLError]:
    """Validation, cached per document text (the apps send the same few documents)."""
    found = _checked.get(query)
    if found is not None:
        return found[1]
    errors = list(validate(schema, document))
    if len(_checked) < MAX_CACHED_DOCUMENTS:
        _checked[query] = (document, errors, query)
    return errors
