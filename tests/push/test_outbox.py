"""The outbox row is part of its cause's transaction: a rollback leaves no push behind."""

from __future__ import annotations

import pytest

from backend.push.notify import message_notification, notify
from backend.push.tables import PushOutbox
from tests.conftest import LiveServer
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.push import a_message, new_token, register


class Boom(Exception):
    pass


async def test_a_rolled_back_change_leaves_no_push(
    api: Api, factory: Factory, live_server: LiveServer
) -> None:
    # given a user with a registered device
    user = await factory.user()
    session = await api.login(user.email, user.password)
    await register(api, session.access, new_token())
    message = a_message()
    before = await PushOutbox.count().where(PushOutbox.user == user.id)
    # when a unit of work decides to push, then fails
    queued: list[object] = []

    async def decide_then_fail() -> None:
        async with live_server.container.database.unit_of_work():
            queued.extend(
                await notify(
                    [user.id], message_notification(message), event_id=None, breaks_quiet_hours=False
                )
            )
            raise Boom

    with pytest.raises(Boom):
        await decide_then_fail()
    assert queued == [user.id]
    # then no outbox row survived
    assert await PushOutbox.count().where(PushOutbox.user == user.id) == before
    # and the same decision committed leaves exactly one
    async with live_server.container.database.unit_of_work():
        await notify([user.id], message_notification(message), event_id=None, breaks_quiet_hours=False)
    assert await PushOutbox.count().where(PushOutbox.user == user.id) == before + 1
