"""GraphQL types of push notifications."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.graphql.common import Node, to_global_id
from backend.push import records
from backend.push.codes import Platform as DomainPlatform

Platform = strawberry.enum(DomainPlatform)


@strawberry.type(description="A device that receives your pushes (one per sign-in device id).")
class PushDevice(Node):
    id: strawberry.ID
    device_id: str = strawberry.field(description="The deviceId given at sign-in.")
    platform: Platform  # type: ignore[valid-type]
    app_version: str
    locale: str
    updated_at: datetime


@strawberry.type(description="What you are pushed, and when not.")
class PushSettings:
    time_zone: str = strawberry.field(description="IANA time zone quiet hours are read in.")
    quiet_start: str | None = strawberry.field(
        description="HH:MM; STAT referrals and priority messages break through."
    )
    quiet_end: str | None
    referral_updates: bool
    messages: bool
    reminders: bool = strawberry.field(description="Automated reminders (REFERRAL_REMINDER pushes).")
    escalations: bool = strawberry.field(
        description="Automated escalations of overdue referrals (REFERRAL_ESCALATION pushes)."
    )


def device_from_record(row: records.PushDevice) -> PushDevice:
    return PushDevice(
        id=to_global_id("PushDevice", row.id),
        device_id=row.device_id,
        platform=DomainPlatform(row.platform),
        app_version=row.app_version,
        locale=row.locale,
        updated_at=row.updated_at,
    )


def settings_from_record(row: records.PushPreferences) -> PushSettings:
    return PushSettings(
        time_zone=row.time_zone,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        referral_updates=row.referral_updates,
        messages=row.messages,
        reminders=row.reminders,
        escalations=row.escalations,
    )
