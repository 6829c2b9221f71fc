"""Sign-in, throttling and lockout over the public GraphQL API."""

from __future__ import annotations

from tests.support.api import Api
from tests.support.factories import Factory


async def test_login_with_correct_password_returns_tokens_that_authenticate(
    api: Api, factory: Factory
) -> None:
    # given
    user = await factory.user()
    # when
    tokens = await api.login(user.email, user.password)
    # then
    data = await api.data("{ me { email } }", token=tokens.access)
    assert data["me"]["email"] == user.email
    assert tokens.refresh and tokens.refresh != tokens.access


async def test_login_with_wrong_password_or_unknown_email_gives_the_same_error(
    api: Api, factory: Factory
) -> None:
    user = await factory.user()

    wrong_password = await api.login_result(user.email, "not the password at all")
    unknown_email = await api.login_result("nobody@test.example", "not the password at all")

    assert (
        wrong_password
        == unknown_email
        == {
            "__typename": "AuthError",
            "code": "INVALID_CREDENTIALS",
            "message": "E-mail or password is incorrect.",
            "retryAfterSeconds": None,
        }
    )


async def test_account_locks_after_repeated_failures_even_for_the_right_password(
    api: Api, factory: Factory
) -> None:
    user = await factory.user()
    for _ in range(5):
        assert (await api.login_result(user.email, "wrong password!!"))["code"] == "INVALID_CREDENTIALS"

    locked = await api.login_result(user.email, user.password)

    assert locked["code"] == "TOO_MANY_ATTEMPTS"
    assert 0 < locked["retryAfterSeconds"] <= 900


async def test_client_address_is_throttled_across_accounts(api: Api, factory: Factory) -> None:
    # given 30 failures from one address spread over many accounts (no account locks)
    for attempt in range(30):
        result = await api.login_result(f"spray{attempt}@test.example", "wrong password!!")
        assert result["code"] == "INVALID_CREDENTIALS"
    user = await factory.user()
    # when the address tries a valid account
    result = await api.login_result(user.email, user.password)
    # then it is throttled too
    assert result["code"] == "TOO_MANY_ATTEMPTS"


async def test_login_rejects_malformed_input_with_field_errors(api: Api) -> None:
    result = await api.login_result("x" * 300, "", device_id="not a valid device id!")

    assert result["__typename"] == "InputError"
    assert {e["field"] for e in result["fieldErrors"]} == {"email", "password", "deviceId"}


async def test_deactivated_user_cannot_log_in(api: Api, factory: Factory) -> None:
    from backend.accounts import repository
    from backend.core.clock import utcnow

    user = await factory.user()
    async with factory.container.database.unit_of_work():
        await repository.deactivate_user(user.id, utcnow())

    assert (await api.login_result(user.email, user.password))["code"] == "INVALID_CREDENTIALS"
