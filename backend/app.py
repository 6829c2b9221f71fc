"""The Litestar app factory: GraphQL at /graphql, the patient survey page at /survey/{token},
health and readiness probes, JWKS.

Lifespan: open the database pool (and Redis, when configured) and start the realtime bus on
start-up; stop them on shutdown. Everything long-lived hangs off ``app.state.container``.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Response, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware

from backend.automation.runner import Runner, catch_up
from backend.container import Container, build_container
from backend.email import subscribers as email_reactions
from backend.email.runtime import build_dispatcher as build_email_dispatcher
from backend.graphql.http import build_graphql_controller
from backend.graphql.schema import build_schema
from backend.logging import configure_logging, get_logger
from backend.messaging.retention import expire_forever as expire_messages
from backend.pages.survey import build_survey_routes
from backend.push import notify
from backend.push.live import LIVE
from backend.push.runtime import build_dispatcher
from backend.rate_limit import RateLimitMiddleware, SlidingWindowLimiter
from backend.realtime.bus import InProcessBus, RedisBus
from backend.realtime.hub import Hub
from backend.referrals.expiry import expire_forever as expire_referrals
from backend.settings import Settings, get_settings

LIVE_FLUSH_SECONDS = 0.2
logger = get_logger(__name__)


PROBE_PATHS = ("/healthz", "/readyz")  # never rate limited: load balancers poll them


@get("/healthz", include_in_schema=False, cache=False)
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False, cache=False)
async def readyz(state: State) -> Response[dict[str, Any]]:
    """The process can serve: the database answers, and Redis when configured."""
    container: Container = state.container
    checks: dict[str, bool] = {"database": await container.database.ping()}
    if container.redis is not None:
        try:
            checks["redis"] = bool(await container.redis.ping())
        except Exception:
            checks["redis"] = False
    ready = all(checks.values())
    return Response(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


@get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(state: State) -> Response[dict[str, Any]]:
    """Public keys that verify our access tokens (current and, during rotation, previous)."""
    container: Container = state.container
    return Response(container.keys.jwks(), headers={"cache-control": "public, max-age=300"})


BACKGROUND_STOP_TIMEOUT_SECONDS = 10.0


async def _cancel_and_wait(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel background tasks and wait for them to unwind, so none holds a pooled connection
    while the pool closes (asyncpg's close waits for every connection to be released)."""
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=BACKGROUND_STOP_TIMEOUT_SECONDS)


async def _automation(container: Container, settings: Settings) -> None:
    """Plan the steps of open referrals that have none (idempotent), then run the ladder."""
    try:
        await catch_up(container.database)
    except Exception as error:  # the runner still runs; the next start tries again
        logger.error("automation.catch_up_failed", error_type=type(error).__name__)
    await Runner(container.database, settings.automation).run()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings)
    container = build_container(settings)
    schema = build_schema(settings)
    hub = Hub()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await container.database.start()
        bus: InProcessBus | RedisBus = InProcessBus(hub)
        if settings.redis_url:
            import redis.asyncio as redis

            container.redis = redis.Redis.from_url(settings.redis_url)
            bus = RedisBus(hub, container.redis, settings.redis_channel)
        container.database.publisher = bus
        await bus.start()
        housekeeping = asyncio.create_task(hub.housekeep(), name="careloop-socket-housekeeping")
        dispatcher = build_dispatcher(settings, container.database)
        background = [
            asyncio.create_task(
                expire_messages(container.database, settings.messaging.expiry_interval_seconds),
                name="careloop-message-expiry",
            ),
            asyncio.create_task(
                expire_referrals(container.database, settings.referrals.expiry_interval_seconds),
                name="careloop-referral-expiry",
            ),
            asyncio.create_task(LIVE.run(container.database, LIVE_FLUSH_SECONDS), name="careloop-push-live"),
        ]
        if settings.automation.in_process:
            background.append(
                asyncio.create_task(_automation(container, settings), name="careloop-automation")
            )
        if settings.push.dispatch_in_process:
            notify.on_outbox_written(dispatcher.wake)
            background.append(asyncio.create_task(dispatcher.run(), name="careloop-push-dispatcher"))
        emails = build_email_dispatcher(settings, container.database)
        if settings.email.dispatch_in_process:
            email_reactions.on_outbox_written(emails.wake)
            background.append(asyncio.create_task(emails.run(), name="careloop-email-dispatcher"))
        # What exists after start-up lives as long as the process: keep it out of every future
        # garbage collection (thousands of sockets make full collections long; see bench-realtime).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            notify.on_outbox_written(None)
            email_reactions.on_outbox_written(None)
            await _cancel_and_wait([housekeeping, *background])
            await dispatcher.sender.close()
            await emails.sender.close()
            await bus.stop()
            container.database.publisher = None
            if container.redis is not None:
                await container.redis.aclose()
            await container.database.stop()

    rate_limit = DefineMiddleware(
        RateLimitMiddleware,
        limiter=SlidingWindowLimiter(settings.rate_limit_per_minute),
        trusted_proxies=settings.trusted_proxies,
        exclude_paths=PROBE_PATHS,
    )
    cors = CORSConfig(allow_origins=list(settings.allowed_origins)) if settings.allowed_origins else None
    graphql = build_graphql_controller(container, schema, hub, on_live_delivery=LIVE.delivered)
    return Litestar(
        route_handlers=[graphql, healthz, readyz, jwks, *build_survey_routes(settings)],
        state=State({"container": container, "schema": schema, "hub": hub}),
        lifespan=[lifespan],
        middleware=[rate_limit],
        cors_config=cors,
        request_max_body_size=settings.graphql_limits.max_request_body_bytes,
        debug=False,
        openapi_config=None,
        logging_config=None,  # backend.logging configures logging from LOG_LEVEL / LOG_FORMAT
    )
