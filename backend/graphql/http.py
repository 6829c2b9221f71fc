"""The /graphql endpoint: GraphQL over HTTP (POST only) and graphql-transport-ws.

    POST /graphql ──► negotiate media type ──► decode body (one operation; no batches)
        ──► unit of work { authenticate bearer ─► execute ─► rollback if anything unexpected }
        ──► present errors (mask + log unexpected) ──► msgspec-encoded response

Follows the GraphQL-over-HTTP spec: a client accepting ``application/graphql-response+json``
gets 4xx (and no ``data``) for a document that fails to parse or validate; a legacy
``application/json`` client gets 200 with ``errors``. Queries over GET are refused (405);
GraphiQL is served on GET in development only. The WebSocket side speaks only
``graphql-transport-ws`` (the legacy ``graphql-ws`` protocol is refused).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.exceptions import ClientException
from strawberry.exceptions import MissingQueryError
from strawberry.http.websocket_origin import normalize_origin
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType

from backend.accounts.actor import Actor
from backend.audit.actions import AuditAction, AuditOutcome
from backend.audit.service import AuditTrail
from backend.auth.errors import NotAuthenticated
from backend.container import Container
from backend.core.request import RequestMeta
from backend.crypto.envelope import DecryptionFailed
from backend.graphql.context import Context
from backend.graphql.errors import is_unexpected, present_errors
from backend.graphql.network import client_address
from backend.graphql.realtime.connection import LiveDelivery, RealtimeConfig, serve_socket
from backend.realtime import repository as stream_repository
from backend.realtime.hub import Hub

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ALLOWED_OPERATIONS = (OperationType.QUERY, OperationType.MUTATION)
GRAPHIQL_HTML = """<!doctype html><html><head><title>CareLoop GraphiQL</title>
<link rel="stylesheet" href="https://unpkg.com/graphiql@3/graphiql.min.css"/></head>
<body style="margin:0"><div id="graphiql" style="height:100vh"></div>
<script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
<script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
<script crossorigin src="https://unpkg.com/graphiql@3/graphiql.min.js"></script>
<script>ReactDOM.createRoot(document.getElementById('graphiql')).render(
React.createElement(GraphiQL,{fetcher:GraphiQL.createFetcher({url:'/graphql'})}));</script>
</body></html>"""

_encoder = msgspec.json.Encoder()


class RequestError(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def _negotiate(accept: str | None) -> str:
    """The response media type, or a 406 when the client accepts neither."""
    if not accept:
        return APPLICATION_JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media_type in types:
        if media_type == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media_type in (APPLICATION_JSON, "application/*", "*/*"):
            return APPLICATION_JSON
    raise RequestError(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {APPLICATION_JSON}.", "NOT_ACCEPTABLE")


def _decode_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != APPLICATION_JSON:
        raise RequestError(415, "Send the request as application/json.", "UNSUPPORTED_MEDIA_TYPE")
    try:
        payload = msgspec.json.decode(body)
    except msgspec.DecodeError as error:
        raise RequestError(400, "The request body is not valid JSON.", "BAD_REQUEST") from error
    if isinstance(payload, list):
        raise RequestError(
            400, "Batched requests are not supported: send one operation.", "BATCHING_DISABLED"
        )
    if not isinstance(payload, dict):
        raise RequestError(400, "The request body must be a JSON object.", "BAD_REQUEST")
    query = payload.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError(400, "`query` must be a non-empty string.", "BAD_REQUEST")
    for key in ("variables", "extensions"):
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            raise RequestError(400, f"`{key}` must be an object.", "BAD_REQUEST")
    if payload.get("operationName") is not None and not isinstance(payload["operationName"], str):
        raise RequestError(400, "`operationName` must be a string.", "BAD_REQUEST")
    return payload


def _request_id(request: Request[Any, Any, Any]) -> str:
    supplied = request.headers.get("x-request-id", "")
    return supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex


def _bearer(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _respond(payload: dict[str, Any], status: int, media_type: str, request_id: str) -> Response[bytes]:
    return Response(
        _encoder.encode(payload),
        status_code=status,
        media_type=media_type,
        headers={"x-request-id": request_id, "cache-control": "no-store"},
    )


async def _authenticate(container: Container, token: str | None) -> Actor | None:
    if token is None:
        return None
    try:
        return await container.auth.authenticate_request(token)
    except NotAuthenticated:
        return None


async def execute_graphql_post(request: Request[Any, Any, Any]) -> Response[bytes]:
    container: Container = request.app.state.container
    settings = container.settings
    request_id = _request_id(request)
    try:
        media_type = _negotiate(request.headers.get("accept"))
    except RequestError as error:
        return _respond(
            {"errors": [{"message": error.message, "extensions": {"code": error.code}}]},
            error.status,
            APPLICATION_JSON,
            request_id,
        )
    try:
        try:
            body = await request.body()
        except ClientException as error:
            raise RequestError(
                error.status_code, "The request body is too large.", "PAYLOAD_TOO_LARGE"
            ) from error
        payload = _decode_body(request.headers.get("content-type"), body)
    except RequestError as error:
        return _respond(
            {"errors": [{"message": error.message, "extensions": {"code": error.code}}]},
            error.status,
            media_type,
            request_id,
        )

    meta = RequestMeta(
        client_address=client_address(request, settings.trusted_proxies), request_id=request_id
    )
    schema = request.app.state.schema
    try:
        async with container.database.unit_of_work() as uow:
            context = Context(
                container=container,
                meta=meta,
                uow=uow,
                audit=AuditTrail(uow, meta),
                actor=await _authenticate(container, _bearer(request)),
            )
            if context.actor is not None and "streamPosition" in payload["query"]:
                # read before anything else the query loads, so no change falls between the two
                context.loaders["stream_position"] = await stream_repository.last_sequence(
                    context.actor.user_id
                )
            result = await schema.execute(
                payload["query"],
                variable_values=payload.get("variables"),
                context_value=context,
                operation_name=payload.get("operationName"),
                allowed_operation_types=ALLOWED_OPERATIONS,
            )
            if result.errors and any(is_unexpected(error) for error in result.errors):
                uow.set_rollback_only()
    except (MissingQueryError, CannotGetOperationTypeError) as error:
        return _respond(
            {"errors": [{"message": str(error), "extensions": {"code": "BAD_REQUEST"}}]},
            400,
            media_type,
            request_id,
        )
    except InvalidOperationTypeError:
        message = "Only queries and mutations are served over HTTP; subscribe over the WebSocket."
        return _respond(
            {"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]},
            400 if media_type == GRAPHQL_RESPONSE_JSON else 200,
            media_type,
            request_id,
        )

    failures = [
        e.original_error for e in result.errors or () if isinstance(e.original_error, DecryptionFailed)
    ]
    if failures:
        await _audit_decryption_failures(container, meta, context.actor, failures)
    response: dict[str, Any] = {}
    is_request_error = isinstance(result, PreExecutionError)
    if result.errors:
        response["errors"] = present_errors(
            result.errors, request_id=request_id, hide_suggestions=not settings.is_dev
        )
    if not is_request_error:
        response["data"] = result.data
    status = 400 if is_request_error and media_type == GRAPHQL_RESPONSE_JSON else 200
    return _respond(response, status, media_type, request_id)


async def _audit_decryption_failures(
    container: Container, meta: RequestMeta, actor: Actor | None, failures: list[Any]
) -> None:
    """Record them in a unit of work of their own: the request's was rolled back."""
    async with container.database.unit_of_work() as uow:
        audit = AuditTrail(uow, meta)
        for failure in failures:
            audit.record(
                AuditAction.DECRYPTION_FAILED,
                outcome=AuditOutcome.FAILURE,
                actor_user_id=actor.user_id if actor else None,
                object_type=failure.scope,
                object_id=failure.record_id,
            )


def build_graphql_controller(
    container: Container, schema: Any, hub: Hub, *, on_live_delivery: LiveDelivery
) -> type[Controller]:
    """/graphql: our GraphQL-over-HTTP handler, and the graphql-transport-ws endpoint
    (``on_live_delivery``: told when a socket delivers an event a push was queued for)."""
    settings = container.settings
    realtime = RealtimeConfig(
        container=container,
        hub=hub,
        schema=schema._schema,
        allowed_origins=frozenset(filter(None, (normalize_origin(o) for o in settings.allowed_origins))),
        init_timeout=settings.realtime.init_timeout_seconds,
        ping_interval=settings.realtime.ping_interval_seconds,
        max_backlog=settings.realtime.max_backlog,
        max_operations=settings.realtime.max_subscriptions,
        message_rate=float(settings.realtime.max_messages_per_second),
        message_burst=float(settings.realtime.message_burst),
        on_live_delivery=on_live_delivery,
    )

    class GraphQLController(Controller):
        path = "/graphql"

        @websocket(include_in_schema=False)
        async def websocket_endpoint(self, socket: WebSocket[Any, Any, Any]) -> None:
            await serve_socket(socket, realtime)

        @post(status_code=200, include_in_schema=False)
        async def handle_http_post(self, request: Request[Any, Any, Any]) -> Response[bytes]:
            return await execute_graphql_post(request)

        @get(include_in_schema=False)
        async def handle_http_get(self, request: Request[Any, Any, Any]) -> Response[Any]:
            if settings.is_dev and "text/html" in request.headers.get("accept", ""):
                return Response(GRAPHIQL_HTML, media_type="text/html")
            return Response(
                {
                    "errors": [
                        {
                            "message": "Send GraphQL operations with POST.",
                            "extensions": {"code": "METHOD_NOT_ALLOWED"},
                        }
                    ]
                },
                status_code=405,
                headers={"allow": "POST"},
            )

    return GraphQLController
