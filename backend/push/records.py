"""Typed, immutable records of push devices and push settings.

The repository builds them straight from a selected row, ``records.PushDevice(**row)``: fields
are named like the columns (a foreign key holds the referenced id). Outbox rows stay plain dicts
(``OutboxRow``): they are written as table rows and claimed as a handful of columns the
dispatcher passes through.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec


class PushDevice(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    user: UUID
    device_id: str
    platform: str
    token: str
    app_version: str
    locale: str
    created_at: datetime
    updated_at: datetime


class PushPreferences(msgspec.Struct, frozen=True, kw_only=True):
    """What a user is pushed, and when not (``backend.push.service.DEFAULT_SETTINGS`` until they
    save settings)."""

    time_zone: str
    quiet_start: str | None
    quiet_end: str | None
    referral_updates: bool
    messages: bool
    reminders: bool
    escalations: bool


PREFERENCE_FIELDS: tuple[str, ...] = PushPreferences.__struct_fields__


class PushSettings(PushPreferences, frozen=True, kw_only=True):
    """A user's saved settings row."""

    id: UUID
    user: UUID
    updated_at: datetime


class DeviceTarget(msgspec.Struct, frozen=True, kw_only=True):
    """A device a notification is addressed to, with its user's preferences (``None``: the user
    never saved any, the defaults apply)."""

    id: UUID
    user: UUID
    device_id: str
    locale: str
    settings: PushPreferences | None


class DeviceToken(msgspec.Struct, frozen=True, kw_only=True):
    """Where the dispatcher sends a device's notification."""

    id: UUID
    token: str
    locale: str
