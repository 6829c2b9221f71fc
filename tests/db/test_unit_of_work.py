"""The unit of work: one transaction, hooks around the commit, concurrent writers never fail."""

from __future__ import annotations

import asyncio

import pytest

from backend.accounts.tables import Organization
from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory


async def test_commit_runs_after_commit_hooks_and_rollback_does_not(
    live_server: LiveServer,
) -> None:
    database = live_server.container.database
    calls: list[str] = []

    async def hook() -> None:
        calls.append("after")

    async with database.unit_of_work() as uow:
        await Organization(name="Committed Clinic", kind="CLINIC").save()
        uow.after_commit(hook)

    async def failing_request() -> None:
        async with database.unit_of_work() as uow:
            await Organization(name="Rolled Back Clinic", kind="CLINIC").save()
            uow.after_commit(hook)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing_request()

    assert calls == ["after"]
    assert await Organization.exists().where(Organization.name == "Committed Clinic")
    assert not await Organization.exists().where(Organization.name == "Rolled Back Clinic")


async def test_forty_concurrent_writing_requests_all_succeed(api: Api, factory: Factory) -> None:
    # given forty accounts, when all sign in at once (each login writes a session, tokens, audit rows)
    users = await asyncio.gather(*(factory.user() for _ in range(40)))
    results = await asyncio.gather(*(api.login_result(user.email, user.password) for user in users))
    # then none fails with "database is locked" or a serialization error
    assert [r["__typename"] for r in results] == ["AuthPayload"] * 40
