"""Push mutations: register or remove this device's token, change push settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend.core.errors import InvalidInput
from backend.graphql.common import Error, InputError
from backend.graphql.context import Info
from backend.graphql.push import inputs
from backend.graphql.push.types import PushDevice, PushSettings, device_from_record, settings_from_record
from backend.push import service
from backend.push.codes import Platform
from backend.push.errors import PushError as DomainPushError
from backend.push.errors import PushErrorCode as DomainPushErrorCode

PushErrorCode = strawberry.enum(DomainPushErrorCode)


@strawberry.type(description="A push call was refused; nothing was written.")
class PushError(Error):
    code: PushErrorCode  # type: ignore[valid-type]
    message: str


@strawberry.type
class PushDeviceSuccess:
    device: PushDevice


@strawberry.type
class RemovePushDeviceSuccess:
    removed: bool = strawberry.field(description="False when there was nothing to remove.")


@strawberry.type
class PushSettingsSuccess:
    settings: PushSettings


PushDeviceResult = Annotated[PushDeviceSuccess | PushError | InputError, strawberry.union("PushDeviceResult")]
PushSettingsResult = Annotated[PushSettingsSuccess | InputError, strawberry.union("PushSettingsResult")]


@strawberry.type
class PushMutations:
    @strawberry.mutation(description="Register or refresh this device's push token.")
    async def register_push_device(
        self, info: Info, input: inputs.RegisterPushDeviceInput
    ) -> PushDeviceResult:
        try:
            row = await service.register_device(
                info.context.require_actor(),
                service.DeviceRegistration(
                    token=input.token.strip(),
                    platform=Platform(input.platform),
                    app_version=input.app_version.strip(),
                    locale=input.locale.strip(),
                ),
            )
        except DomainPushError as error:
            return PushError(code=error.code, message=error.message)
        except InvalidInput as error:
            return InputError.from_domain(error)
        return PushDeviceSuccess(device=device_from_record(row))

    @strawberry.mutation(description="Stop pushes to this device (or another of yours).")
    async def remove_push_device(
        self, info: Info, input: inputs.RemovePushDeviceInput
    ) -> RemovePushDeviceSuccess:
        removed = await service.remove_device(info.context.require_actor(), input.device_id)
        return RemovePushDeviceSuccess(removed=removed)

    @strawberry.mutation(description="Switch categories on or off, set quiet hours and your time zone.")
    async def update_push_settings(
        self, info: Info, input: inputs.UpdatePushSettingsInput
    ) -> PushSettingsResult:
        try:
            row = await service.change_settings(
                info.context.require_actor(),
                service.SettingsChange(
                    time_zone=input.time_zone,
                    quiet_start=input.quiet_start,
                    quiet_end=input.quiet_end,
                    clear_quiet_hours=input.clear_quiet_hours,
                    referral_updates=input.referral_updates,
                    messages=input.messages,
                    reminders=input.reminders,
                    escalations=input.escalations,
                ),
            )
        except InvalidInput as error:
            return InputError.from_domain(error)
        return PushSettingsSuccess(settings=settings_from_record(row))
