"""Building the push machinery of a process from settings (the app's lifespan and the worker)."""

from __future__ import annotations

from datetime import timedelta

from backend.db import Database
from backend.push import notify
from backend.push.dispatcher import Dispatcher, DispatchSettings
from backend.push.sender import FcmSender, LoggingSender, Sender
from backend.settings import Settings


def build_sender(settings: Settings) -> Sender:
    push = settings.push
    if push.service_account_file is None:
        return LoggingSender()
    return FcmSender(push.service_account_file, concurrency=push.concurrency, send_url=push.send_url)


def build_dispatcher(settings: Settings, database: Database) -> Dispatcher:
    push = settings.push
    notify.set_grace(timedelta(seconds=push.live_grace_seconds))
    return Dispatcher(
        database,
        build_sender(settings),
        DispatchSettings(
            lease_seconds=push.lease_seconds,
            max_attempts=push.max_attempts,
            base_backoff_seconds=push.backoff_seconds,
            idle_poll_seconds=push.idle_poll_seconds,
        ),
    )
