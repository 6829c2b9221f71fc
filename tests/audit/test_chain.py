"""The audit log: written for logins and failures, hash-chained, verified, append-only on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from backend.audit.actions import AuditAction
from backend.audit.service import AuditTrail
from backend.audit.tables import AuditChainHead, AuditEvent
from backend.audit.verify import verify_chain
from backend.core.request import RequestMeta
from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.processes import run_backend_command

ON_POSTGRES = os.environ.get("TEST_DATABASE") == "postgres"


@asynccontextmanager
async def tampering_allowed() -> AsyncIterator[None]:
    """What an attacker with database superuser rights could do: switch the guard triggers off."""
    if ON_POSTGRES:
        await AuditEvent.raw("ALTER TABLE audit_log DISABLE TRIGGER USER")
    try:
        yield
    finally:
        if ON_POSTGRES:
            await AuditEvent.raw("ALTER TABLE audit_log ENABLE TRIGGER USER")


async def _some_activity(api: Api, factory: Factory) -> Any:
    user = await factory.user()
    await api.login_result(user.email, "wrong password!!")
    await api.login(user.email, user.password)
    return user


async def _newest_rows(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await AuditEvent.select().order_by(AuditEvent.id, ascending=False).limit(count)
    )
    return rows[::-1]


async def test_logins_and_failures_are_audited_with_ids_only(api: Api, factory: Factory) -> None:
    user = await _some_activity(api, factory)

    failed, succeeded = await _newest_rows(2)

    assert (failed["action"], failed["outcome"], failed["actor_user_id"]) == (
        "auth.login.failed",
        "failure",
        str(user.id),
    )
    assert (succeeded["action"], succeeded["outcome"]) == ("auth.login.succeeded", "success")
    assert succeeded["object_type"] == "Session" and succeeded["client_address"]
    assert all(user.email not in str(value) for row in (failed, succeeded) for value in row.values())


async def test_chain_verifies_after_a_normal_run_and_via_the_cli(api: Api, factory: Factory) -> None:
    await _some_activity(api, factory)

    report = await verify_chain()
    cli = await run_backend_command("audit", "verify")

    assert report.intact and report.rows_checked >= 2
    assert cli.returncode == 0, cli.stderr
    assert "audit chain intact" in cli.stdout


async def test_an_edited_row_is_detected_and_named(api: Api, factory: Factory) -> None:
    await _some_activity(api, factory)
    target = (await _newest_rows(2))[0]
    async with tampering_allowed():
        await AuditEvent.update({AuditEvent.outcome: "success"}).where(AuditEvent.id == target["id"])
        try:
            report = await verify_chain()
            cli = await run_backend_command("audit", "verify")
        finally:
            await AuditEvent.update({AuditEvent.outcome: target["outcome"]}).where(
                AuditEvent.id == target["id"]
            )

    assert report.first_broken_row_id == target["id"]
    assert "edited" in (report.reason or "")
    assert cli.returncode == 1 and f"row {target['id']}" in cli.stderr
    assert (await verify_chain()).intact


async def test_a_deleted_row_is_detected_at_its_successor(api: Api, factory: Factory) -> None:
    await _some_activity(api, factory)
    deleted, successor = await _newest_rows(2)
    async with tampering_allowed():
        await AuditEvent.delete().where(AuditEvent.id == deleted["id"])
        try:
            report = await verify_chain()
        finally:
            await AuditEvent.insert(AuditEvent(**deleted))

    assert report.first_broken_row_id == successor["id"]
    assert "deleted" in (report.reason or "")
    assert (await verify_chain()).intact


async def test_deleted_rows_at_the_end_of_the_log_are_detected(api: Api, factory: Factory) -> None:
    # given a chain whose newest row is deleted (nothing follows it to notice)
    await _some_activity(api, factory)
    (newest,) = await _newest_rows(1)
    async with tampering_allowed():
        await AuditEvent.delete().where(AuditEvent.id == newest["id"])
        try:
            # when the chain is verified
            report = await verify_chain()
            cli = await run_backend_command("audit", "verify")
        finally:
            await AuditEvent.insert(AuditEvent(**newest))
    # then the log is reported short of its head
    assert not report.intact and "deleted" in (report.reason or "")
    assert cli.returncode == 1 and "ends before the chain's head" in cli.stderr
    assert (await verify_chain()).intact


async def test_concurrent_appends_keep_one_chain_ending_at_its_head(live_server: LiveServer) -> None:
    # given 24 units of work appending at the same time, three entries each
    database = live_server.container.database
    marker = f"concurrent-{uuid.uuid4()}"

    async def append(number: int) -> None:
        async with database.unit_of_work() as uow:
            trail = AuditTrail(uow, RequestMeta(client_address="127.0.0.1", request_id=f"{marker}-{number}"))
            for entry in range(3):
                trail.record(AuditAction.LOGIN_FAILED, object_type="Test", object_id=f"{number}-{entry}")
            await asyncio.sleep(0)

    # when they all commit
    await asyncio.gather(*(append(number) for number in range(24)))
    # then every entry is in one unbroken chain, and the head is its last row
    written = await AuditEvent.count().where(AuditEvent.request_id.like(f"{marker}-%"))
    head = await AuditChainHead.select(AuditChainHead.row_hash).first()
    (newest,) = await _newest_rows(1)
    assert written == 72
    assert (await verify_chain()).intact
    assert head is not None and head["row_hash"] == newest["row_hash"]


if ON_POSTGRES:  # the database-level guard exists on PostgreSQL; SQLite relies on the chain

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE audit_log SET outcome = 'success'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
        ],
    )
    async def test_postgres_refuses_update_delete_and_truncate(
        api: Api, factory: Factory, statement: str
    ) -> None:
        import asyncpg

        await _some_activity(api, factory)
        count = await AuditEvent.count()

        with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError, match="append-only"):
            await AuditEvent.raw(statement)

        assert await AuditEvent.count() == count
