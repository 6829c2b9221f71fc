"""Inputs of push mutations."""

from __future__ import annotations

import strawberry

from backend.graphql.push.types import Platform


@strawberry.input(
    description="This device's FCM registration token (register again whenever FCM refreshes it). "
    "The device is the deviceId of your sign-in."
)
class RegisterPushDeviceInput:
    token: str
    platform: Platform  # type: ignore[valid-type]
    app_version: str = ""
    locale: str = "en"


@strawberry.input(description="Without deviceId: this device. Signing out also removes it.")
class RemovePushDeviceInput:
    device_id: str | None = None


@strawberry.input(description="Only the fields given change.")
class UpdatePushSettingsInput:
    time_zone: str | None = None
    quiet_start: str | None = None
    quiet_end: str | None = None
    clear_quiet_hours: bool = False
    referral_updates: bool | None = None
    messages: bool | None = None
    reminders: bool | None = None
    escalations: bool | None = None
