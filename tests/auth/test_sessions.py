"""Refresh rotation, reuse detection, logout, deactivation and password change."""

from __future__ import annotations

from typing import Any

from tests.support.api import Api
from tests.support.factories import Factory
from tests.support.graphql_ids import global_id

REFRESH = """
mutation Refresh($input: RefreshSessionInput!) {
  refreshSession(input: $input) {
    __typename
    ... on AuthPayload { accessToken refreshToken }
    ... on AuthError { code }
  }
}
"""
LOGOUT = "mutation { logout { __typename ... on LogoutSuccess { ok } } }"
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) {
    __typename
    ... on AuthPayload { accessToken refreshToken }
    ... on AuthError { code field }
    ... on InputError { fieldErrors { field code } }
  }
}
"""
DEACTIVATE = """
mutation Deactivate($input: DeactivateUserInput!) {
  deactivateUser(input: $input) { __typename ... on AccountError { code } }
}
"""


async def _refresh(api: Api, refresh_token: str, device_id: str = "test-device") -> dict[str, Any]:
    data = await api.data(REFRESH, {"input": {"refreshToken": refresh_token, "deviceId": device_id}})
    result: dict[str, Any] = data["refreshSession"]
    return result


async def test_refresh_rotates_the_refresh_token(api: Api, factory: Factory) -> None:
    user = await factory.user()
    first = await api.login(user.email, user.password)

    second = await _refresh(api, first.refresh)
    third = await _refresh(api, second["refreshToken"])

    assert second["__typename"] == third["__typename"] == "AuthPayload"
    assert len({first.refresh, second["refreshToken"], third["refreshToken"]}) == 3
    assert await api.me_status(third["accessToken"]) == "ok"


async def test_replaying_a_rotated_refresh_token_revokes_the_whole_family(api: Api, factory: Factory) -> None:
    # given a session whose first refresh token was rotated
    user = await factory.user()
    first = await api.login(user.email, user.password)
    rotated = await _refresh(api, first.refresh)
    # when the old token is replayed (stolen copy)
    replay = await _refresh(api, first.refresh)
    # then reuse is reported, and every token of the family stops working
    assert replay == {"__typename": "AuthError", "code": "REFRESH_TOKEN_REUSED"}
    assert (await _refresh(api, rotated["refreshToken"]))["code"] in {
        "SESSION_REVOKED",
        "REFRESH_TOKEN_REUSED",
    }
    assert await api.me_status(rotated["accessToken"]) == "UNAUTHENTICATED"
    assert await api.me_status(first.access) == "UNAUTHENTICATED"


async def test_reuse_revokes_only_that_family(api: Api, factory: Factory) -> None:
    user = await factory.user()
    phone = await api.login(user.email, user.password, device_id="phone")
    tablet = await api.login(user.email, user.password, device_id="tablet")
    await _refresh(api, phone.refresh, "phone")

    await _refresh(api, phone.refresh, "phone")

    assert await api.me_status(tablet.access) == "ok"


async def test_refresh_token_from_another_device_is_refused_and_ends_the_session(
    api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password, device_id="phone")

    stolen = await _refresh(api, tokens.refresh, device_id="attacker-laptop")

    assert stolen["code"] == "INVALID_REFRESH_TOKEN"
    assert await api.me_status(tokens.access) == "UNAUTHENTICATED"


async def test_unknown_refresh_token_is_refused(api: Api) -> None:
    assert (await _refresh(api, "x" * 43))["code"] == "INVALID_REFRESH_TOKEN"


async def test_logout_revokes_access_and_refresh_tokens_at_once(api: Api, factory: Factory) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)

    data = await api.data(LOGOUT, token=tokens.access)

    assert data["logout"] == {"__typename": "LogoutSuccess", "ok": True}
    assert await api.me_status(tokens.access) == "UNAUTHENTICATED"
    assert (await _refresh(api, tokens.refresh))["code"] == "SESSION_REVOKED"


async def test_deactivated_user_is_rejected_at_once(api: Api, factory: Factory) -> None:
    from backend.accounts.codes import Role

    # given an admin and a signed-in user of the same organization
    organization_id = await factory.organization()
    admin = await factory.user(organization_id, roles=(Role.ORG_ADMIN,))
    user = await factory.user(organization_id)
    admin_tokens = await api.login(admin.email, admin.password)
    user_tokens = await api.login(user.email, user.password)
    assert await api.me_status(user_tokens.access) == "ok"
    # when the admin deactivates the user
    data = await api.data(
        DEACTIVATE,
        {
            "input": {
                "organizationId": global_id("Organization", organization_id),
                "userId": global_id("User", user.id),
            }
        },
        token=admin_tokens.access,
    )
    # then the user's still-unexpired access token and refresh token stop working
    assert data["deactivateUser"]["__typename"] == "DeactivateUserSuccess"
    assert await api.me_status(user_tokens.access) == "UNAUTHENTICATED"
    assert (await _refresh(api, user_tokens.refresh))["code"] == "SESSION_REVOKED"


async def test_password_change_revokes_every_session_and_starts_a_new_one(api: Api, factory: Factory) -> None:
    user = await factory.user()
    phone = await api.login(user.email, user.password, device_id="phone")
    tablet = await api.login(user.email, user.password, device_id="tablet")

    data = await api.data(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": user.password, "newPassword": "a brand new passphrase"}},
        token=phone.access,
    )

    result = data["changePassword"]
    assert result["__typename"] == "AuthPayload"
    assert await api.me_status(phone.access) == "UNAUTHENTICATED"
    assert await api.me_status(tablet.access) == "UNAUTHENTICATED"
    assert (await _refresh(api, tablet.refresh, "tablet"))["code"] == "SESSION_REVOKED"
    assert await api.me_status(result["accessToken"]) == "ok"
    assert (await api.login_result(user.email, user.password))["code"] == "INVALID_CREDENTIALS"
    assert (await api.login_result(user.email, "a brand new passphrase"))["__typename"] == "AuthPayload"


async def test_password_change_with_wrong_current_password_or_weak_new_one_changes_nothing(
    api: Api, factory: Factory
) -> None:
    user = await factory.user()
    tokens = await api.login(user.email, user.password)

    wrong = await api.data(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "not my password", "newPassword": "a brand new passphrase"}},
        token=tokens.access,
    )
    weak = await api.data(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": user.password, "newPassword": "short"}},
        token=tokens.access,
    )

    assert wrong["changePassword"] == {
        "__typename": "AuthError",
        "code": "WRONG_PASSWORD",
        "field": "currentPassword",
    }
    assert weak["changePassword"] == {
        "__typename": "InputError",
        "fieldErrors": [{"field": "newPassword", "code": "PASSWORD_TOO_SHORT"}],
    }
    assert await api.me_status(tokens.access) == "ok"
