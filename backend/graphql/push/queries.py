"""Push queries: your devices and your push settings."""

from __future__ import annotations

import strawberry

from backend.graphql.context import Info
from backend.graphql.push.types import PushDevice, PushSettings, device_from_record, settings_from_record
from backend.push import service


@strawberry.type
class PushQueries:
    @strawberry.field(description="Your devices registered for pushes.")
    async def push_devices(self, info: Info) -> list[PushDevice]:
        return [device_from_record(row) for row in await service.devices(info.context.require_actor())]

    @strawberry.field(description="Your push settings (defaults until you change them).")
    async def push_settings(self, info: Info) -> PushSettings:
        return settings_from_record(await service.settings(info.context.require_actor()))
