"""Push use cases for the signed-in user: their devices' tokens and their push settings.

A device is the session's ``deviceId`` (the one given at sign-in): registering again from the
same device refreshes its token, platform, app version and locale. Signing out of a device
removes its token; deactivating a user removes all of theirs (see backend/auth/service.py and
backend/accounts/service.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from typing import Any
from zoneinfo import available_timezones

from backend.accounts.actor import Actor
from backend.auth import repository as auth_repository
from backend.core.clock import utcnow
from backend.core.errors import InvalidInput
from backend.push import records, repository
from backend.push.codes import Platform
from backend.push.errors import PushError, PushErrorCode
from backend.push.limits import MAX_APP_VERSION_CHARS, MAX_DEVICES_PER_USER, MAX_LOCALE_CHARS, MAX_TOKEN_CHARS

TOKEN = re.compile(r"^[A-Za-z0-9_:\-.]+$")
LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")


@dataclass(frozen=True, slots=True)
class DeviceRegistration:
    token: str
    platform: Platform
    app_version: str = ""
    locale: str = "en"


@dataclass(frozen=True, slots=True)
class SettingsChange:
    time_zone: str | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    clear_quiet_hours: bool = False
    referral_updates: bool | None = None
    messages: bool | None = None
    reminders: bool | None = None
    escalations: bool | None = None


DEFAULT_SETTINGS = records.PushPreferences(
    time_zone="UTC",
    quiet_start=None,
    quiet_end=None,
    referral_updates=True,
    messages=True,
    reminders=True,
    escalations=True,
)


async def register_device(actor: Actor, registration: DeviceRegistration) -> records.PushDevice:
    problems = InvalidInput()
    if not 1 <= len(registration.token) <= MAX_TOKEN_CHARS or not TOKEN.match(registration.token):
        problems.add("token", "INVALID", "An FCM registration token.")
    if len(registration.app_version) > MAX_APP_VERSION_CHARS:
        problems.add("appVersion", "TOO_LONG", f"At most {MAX_APP_VERSION_CHARS} characters.")
    if not LOCALE.match(registration.locale) or len(registration.locale) > MAX_LOCALE_CHARS:
        problems.add("locale", "INVALID", "A BCP 47 language tag such as en or es-US.")
    problems.raise_if_any()
    device_id = await auth_repository.session_device_id(actor.session_id) or "unknown"
    known = {device.device_id for device in await repository.devices_of_user(actor.user_id)}
    if device_id not in known and len(known) >= MAX_DEVICES_PER_USER:
        raise PushError(
            PushErrorCode.TOO_MANY_DEVICES, f"At most {MAX_DEVICES_PER_USER} devices: remove one first."
        )
    return await repository.upsert_device(
        user_id=actor.user_id,
        device_id=device_id,
        platform=registration.platform.value,
        token=registration.token,
        app_version=registration.app_version,
        locale=registration.locale,
        now=utcnow(),
    )


async def remove_device(actor: Actor, device_id: str | None = None) -> bool:
    """Remove this session's device (or another of the user's devices by its device id)."""
    target = device_id or await auth_repository.session_device_id(actor.session_id)
    if target is None:
        return False
    return await repository.delete_device(actor.user_id, target) > 0


async def devices(actor: Actor) -> list[records.PushDevice]:
    return await repository.devices_of_user(actor.user_id)


async def settings(actor: Actor) -> records.PushPreferences:
    """The user's saved settings (a ``records.PushSettings``), or the defaults."""
    found = (await repository.settings_of_users([actor.user_id])).get(actor.user_id)
    return found or DEFAULT_SETTINGS


async def change_settings(actor: Actor, change: SettingsChange) -> records.PushSettings:
    current = await settings(actor)
    values: dict[str, Any] = {name: getattr(current, name) for name in records.PREFERENCE_FIELDS}
    problems = InvalidInput()
    if change.time_zone is not None:
        if change.time_zone not in _zones():
            problems.add("timeZone", "INVALID", "An IANA time zone such as America/Chicago.")
        values["time_zone"] = change.time_zone
    for name, value in (("quietStart", change.quiet_start), ("quietEnd", change.quiet_end)):
        if value is not None and not CLOCK.match(value):
            problems.add(name, "INVALID", "A 24-hour time such as 22:00.")
    if change.clear_quiet_hours:
        values["quiet_start"] = values["quiet_end"] = None
    elif (change.quiet_start is None) != (change.quiet_end is None):
        problems.add("quietEnd", "REQUIRED", "Give both the start and the end of quiet hours.")
    elif change.quiet_start is not None and change.quiet_end is not None:
        if time.fromisoformat(change.quiet_start) == time.fromisoformat(change.quiet_end):
            problems.add("quietEnd", "INVALID", "Quiet hours must not start and end at the same time.")
        values["quiet_start"], values["quiet_end"] = change.quiet_start, change.quiet_end
    problems.raise_if_any()
    for name in ("referral_updates", "messages", "reminders", "escalations"):
        value = getattr(change, name)
        if value is not None:
            values[name] = value
    return await repository.save_settings(actor.user_id, records.PushPreferences(**values), utcnow())


def _zones() -> set[str]:
    global _ZONES  # noqa: PLW0603 - computed once
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


_ZONES: set[str] | None = None
