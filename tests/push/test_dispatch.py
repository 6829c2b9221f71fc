"""Dispatchers as separate processes (`python -m backend worker`): several at once send each push
exactly once, and one killed mid-batch leaves nothing unsent and nothing sent twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from typing import Any

import pytest

from backend.push.notify import message_notification, notify
from backend.push.tables import PushOutbox
from tests.conftest import TEST_DATABASE, LiveServer
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.push import a_message, new_token, register
from tools.fake_fcm import FakeFcm


async def _pushes(api: Api, factory: Factory, server: LiveServer, *, users: int, devices: int) -> list[str]:
    """``users`` x ``devices`` registered devices and one queued push for each; their tokens."""
    user_ids, tokens = [], []
    for _ in range(users):
        user = await factory.user()
        user_ids.append(user.id)
        for number in range(devices):
            session = await api.login(user.email, user.password, device_id=f"device-{number}")
            token = new_token("dispatch")
            await register(api, session.access, token)
            tokens.append(token)
    message = a_message()
    async with server.container.database.unit_of_work():
        await notify(user_ids, message_notification(message), event_id=None, breaks_quiet_hours=False)
    return tokens


async def _worker(**env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "backend",
        "worker",
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
    )


async def _until_all_sent(rows: int, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        sent = await PushOutbox.count().where(PushOutbox.status == "SENT")
        if sent >= rows:
            await asyncio.sleep(0.2)  # the fake records an outcome just after the client read it
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not every push was sent in time")


async def _until_delivered(fake: FakeFcm, tokens: list[str], count: int, *, within: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while sum(_deliveries(fake, tokens).values()) < count:
        if loop.time() > deadline:
            raise AssertionError("FCM did not get the first pushes in time")
        await asyncio.sleep(0.02)


def _deliveries(fake: FakeFcm, tokens: list[str]) -> Counter[str]:
    return Counter(send.message["data"]["pushId"] for token in tokens for send in fake.delivered(token))


@pytest.mark.skipif(TEST_DATABASE != "postgres", reason="row claiming with SKIP LOCKED is PostgreSQL's")
async def test_two_dispatchers_at_once_send_each_push_exactly_once(
    api: Api, factory: Factory, live_server: LiveServer, fake_fcm: FakeFcm
) -> None:
    # given 40 pushes queued for 40 devices, and FCM answering after 20 ms
    await PushOutbox.delete(force=True)
    tokens = await _pushes(api, factory, live_server, users=4, devices=10)
    fake_fcm.set_delay(20)
    try:
        # when two worker processes dispatch at the same time, in small batches
        workers = [await _worker(PUSH_CONCURRENCY="4") for _ in range(2)]
        await _until_all_sent(40, within=30)
    finally:
        for worker in workers:
            worker.terminate()
            await worker.wait()
        fake_fcm.set_delay(0)
    # then every push reached FCM exactly once
    delivered = _deliveries(fake_fcm, tokens)
    assert len(delivered) == 40 and set(delivered.values()) == {1}, delivered


async def test_a_dispatcher_killed_mid_batch_and_restarted_sends_every_push_once(
    api: Api, factory: Factory, live_server: LiveServer, fake_fcm: FakeFcm
) -> None:
    # given 20 pushes, FCM answering after 300 ms, a worker sending 5 at a time
    await PushOutbox.delete(force=True)
    tokens = await _pushes(api, factory, live_server, users=2, devices=10)
    fake_fcm.set_delay(300)
    killed: Any = None
    try:
        killed = await _worker(PUSH_CONCURRENCY="5")
        # when it is killed in the middle of a wave, after the first pushes were delivered
        await _until_delivered(fake_fcm, tokens, 5, within=20)
        await asyncio.sleep(0.12)
        killed.send_signal(signal.SIGKILL)
        await killed.wait()
        partial = sum(_deliveries(fake_fcm, tokens).values())
        assert 5 <= partial < 20
        # and a new worker starts (the killed one's claims expire after PUSH_LEASE_MS)
        restarted = await _worker(PUSH_CONCURRENCY="5")
        try:
            await _until_all_sent(20, within=30)
        finally:
            restarted.terminate()
            await restarted.wait()
    finally:
        fake_fcm.set_delay(0)
    # then every push was delivered exactly once
    delivered = _deliveries(fake_fcm, tokens)
    assert len(delivered) == 20 and set(delivered.values()) == {1}, delivered
