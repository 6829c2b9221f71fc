"""Liveness and readiness probes."""

from __future__ import annotations

import os

import pytest

from tests.conftest import LiveServer
from tests.support.api import Api


async def test_healthz_reports_the_process_alive(api: Api) -> None:
    response = await api.http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.redis
async def test_readyz_checks_the_database_and_redis(api: Api, live_server: LiveServer) -> None:
    assert os.environ.get("REDIS_URL"), "the harness configures Redis when it is reachable"
    response = await api.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": True, "redis": True}}


async def test_readyz_reports_unavailable_when_redis_is_down(live_server: LiveServer) -> None:
    import dataclasses

    from backend.app import create_app
    from tests.support.api import in_loop_client

    settings = dataclasses.replace(live_server.container.settings, redis_url="redis://127.0.0.1:1/0")
    async with in_loop_client(create_app(settings)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": True, "redis": False},
    }
