"""Devices: a push token per sign-in device, refreshed in place, gone on logout and deactivation."""

from __future__ import annotations

from backend.accounts.codes import Role
from backend.push.tables import PushDevice
from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.graphql_ids import global_id
from tests.support.push import REGISTER, new_token, register

DEVICES = "query { pushDevices { deviceId platform appVersion locale } }"
REMOVE = "mutation($input: RemovePushDeviceInput!) { removePushDevice(input: $input) { removed } }"
LOGOUT = "mutation { logout { ok } }"
DEACTIVATE = """
mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { __typename } }
"""


async def _tokens(user_id: object) -> list[str]:
    return [
        row["token"] for row in await PushDevice.select(PushDevice.token).where(PushDevice.user == user_id)
    ]


async def test_registering_again_from_a_device_refreshes_its_token(api: Api, factory: Factory) -> None:
    # given a user signed in on a phone that registered a token
    user = await factory.user()
    phone = await api.login(user.email, user.password, device_id="phone")
    first, second = new_token(), new_token()
    await register(api, phone.access, first)
    # when FCM refreshes the token and the app registers again
    await register(api, phone.access, second, locale="es-US")
    # then the device has one row, with the new token and locale
    assert await _tokens(user.id) == [second]
    devices = (await api.data(DEVICES, token=phone.access))["pushDevices"]
    assert devices == [{"deviceId": "phone", "platform": "IOS", "appVersion": "1.4.0", "locale": "es-US"}]


async def test_bad_tokens_and_locales_are_refused_with_field_errors(api: Api, factory: Factory) -> None:
    user = await factory.user()
    session = await api.login(user.email, user.password)
    data = await api.data(
        REGISTER,
        {"input": {"token": "has spaces!", "platform": "ANDROID", "locale": "not a locale"}},
        token=session.access,
    )
    result = data["registerPushDevice"]
    assert result["__typename"] == "InputError"
    assert {e["field"] for e in result["fieldErrors"]} == {"token", "locale"}
    assert await _tokens(user.id) == []


async def test_logout_removes_that_device_only_and_removal_is_explicit_too(
    api: Api, factory: Factory
) -> None:
    # given a user with a phone and a tablet
    user = await factory.user()
    phone = await api.login(user.email, user.password, device_id="phone")
    tablet = await api.login(user.email, user.password, device_id="tablet")
    phone_token, tablet_token = new_token(), new_token()
    await register(api, phone.access, phone_token)
    await register(api, tablet.access, tablet_token)
    # when the phone signs out
    await api.data(LOGOUT, token=phone.access)
    # then only the tablet still gets pushes, until it removes itself
    assert await _tokens(user.id) == [tablet_token]
    removed = await api.data(REMOVE, {"input": {}}, token=tablet.access)
    assert removed["removePushDevice"]["removed"] is True
    assert await _tokens(user.id) == []


async def test_deactivating_a_user_removes_all_their_tokens(api: Api, factory: Factory) -> None:
    admin = await factory.user(roles=(Role.ORG_ADMIN,))
    user = await factory.user(admin.organization_id)
    session = await api.login(user.email, user.password, device_id="phone")
    await register(api, session.access, new_token())
    admin_session = await api.login(admin.email, admin.password)
    result = await api.data(
        DEACTIVATE,
        {
            "input": {
                "userId": global_id("User", user.id),
                "organizationId": global_id("Organization", admin.organization_id),
            }
        },
        token=admin_session.access,
    )
    assert result["deactivateUser"]["__typename"] == "DeactivateUserSuccess"
    assert await _tokens(user.id) == []
