"""Building the e-mail machinery of a process from settings (the app's lifespan and the worker)."""

from __future__ import annotations

from backend.db import Database
from backend.email.dispatcher import Dispatcher, DispatchSettings
from backend.email.sender import LoggingSender, Sender, SmtpSender
from backend.settings import Settings


def build_sender(settings: Settings) -> Sender:
    if settings.email.smtp_host is None:
        return LoggingSender(development=settings.is_dev)
    return SmtpSender(settings.email)


def build_dispatcher(settings: Settings, database: Database) -> Dispatcher:
    email = settings.email
    return Dispatcher(
        database,
        build_sender(settings),
        DispatchSettings(
            lease_seconds=email.lease_seconds,
            max_attempts=email.max_attempts,
            base_backoff_seconds=email.backoff_seconds,
            idle_poll_seconds=email.idle_poll_seconds,
        ),
    )
