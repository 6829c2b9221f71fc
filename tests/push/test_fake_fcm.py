"""The FCM fake, driven through the real firebase-admin library (``send_each_async``).

Each test gets a fresh firebase app whose messaging service is pointed at the fake on the
service *instance* (``_fcm_url``), never on the class, and whose async client has the library's
own 500/503 retry turned off (as backend/push/sender.py does): the dispatcher owns retries.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
import uuid
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import google.auth.exceptions
import httpx
import pytest
from firebase_admin import exceptions, messaging

from tools.fake_fcm import FakeFcm, fake_service_account

PROJECT = "careloop-test"


@pytest.fixture(scope="module")
async def fake() -> AsyncIterator[FakeFcm]:
    server = FakeFcm(project_id=PROJECT)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _reset(fake: FakeFcm) -> None:
    fake.reset()


@pytest.fixture(scope="module")
def service_account(fake: FakeFcm) -> dict[str, str]:
    return fake.service_account()


@asynccontextmanager
async def firebase_app(
    fake: FakeFcm, account: dict[str, str], *, http_timeout: float = 5, library_retries: bool = False
) -> AsyncIterator[Any]:
    """A dedicated firebase app (unique name) whose messaging service talks to the fake.

    The override touches private attributes of firebase-admin 7.x on this app's service only.
    """
    import firebase_admin
    from firebase_admin import _http_client, credentials
    from firebase_admin._retry import HttpxRetry

    app = firebase_admin.initialize_app(
        credentials.Certificate(account),
        {"projectId": PROJECT, "httpTimeout": http_timeout},
        name=f"fake-fcm-test-{uuid.uuid4()}",
    )
    service = messaging._get_messaging_service(app)
    service._fcm_url = fake.send_url_template.format(PROJECT)
    if not library_retries:
        service._async_client = _http_client.HttpxAsyncClient(
            credential=service._credential, timeout=http_timeout, retry_config=HttpxRetry(max_retries=0)
        )
    try:
        yield app
    finally:
        # delete_app() calls asyncio.run(aclose()): impossible inside a running loop. Close the
        # client here, on its own loop, then let delete_app run (a no-op close) in a thread.
        await service._async_client.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, app)


@pytest.fixture
async def app(fake: FakeFcm, service_account: dict[str, str]) -> AsyncIterator[Any]:
    async with firebase_app(fake, service_account) as firebase:
        yield firebase


def message(token: str, **fields: Any) -> messaging.Message:
    with warnings.catch_warnings():  # Message.token is deprecated in favour of fid in 7.7
        warnings.simplefilter("ignore", DeprecationWarning)
        return messaging.Message(token=token, **fields)


async def send_one(app: Any, token: str, **fields: Any) -> messaging.SendResponse:
    batch = await messaging.send_each_async([message(token, **fields)], app=app)
    return batch.responses[0]


async def settled(fake: FakeFcm) -> None:
    """Until every send has its outcome: the fake records it just after writing the answer,
    which the client may already have read."""
    deadline = time.monotonic() + 3
    while fake.stats()["pending"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"{fake.stats()['pending']} sends still pending")
        await asyncio.sleep(0.02)


async def wait_for_outcome(fake: FakeFcm, token: str) -> str:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        records = fake.received(token)
        if records and records[-1].outcome != "pending":
            return records[-1].outcome
        await asyncio.sleep(0.02)
    raise AssertionError(f"the send to {token} is still pending")


# -- success --------------------------------------------------------------------------------


async def test_a_success_is_recorded_and_delivered_with_the_exact_body(fake: FakeFcm, app: Any) -> None:
    response = await send_one(
        app,
        "device-1",
        data={"type": "referral.updated", "referral_id": "r-1"},
        notification=messaging.Notification(title="CareLoop"),
        android=messaging.AndroidConfig(priority="high", collapse_key="referral-r-1"),
    )

    assert response.success
    assert await wait_for_outcome(fake, "device-1") == "delivered"
    [record] = fake.delivered()
    assert response.message_id == record.name == f"projects/{PROJECT}/messages/fake-{record.seq}"
    assert record.body == {
        "message": {
            "token": "device-1",
            "data": {"type": "referral.updated", "referral_id": "r-1"},
            "notification": {"title": "CareLoop"},
            "android": {"priority": "high", "collapse_key": "referral-r-1"},
        }
    }
    assert (record.project_id, record.token, record.validate_only) == (PROJECT, "device-1", False)
    assert (record.outcome, record.written, record.response, record.status) == ("delivered", True, "ok", 200)
    assert record.received_at <= (record.finished_at or 0)


async def test_a_dry_run_is_validated_not_delivered(fake: FakeFcm, app: Any) -> None:
    batch = await messaging.send_each_async([message("device-1")], dry_run=True, app=app)

    assert batch.responses[0].success
    assert await wait_for_outcome(fake, "device-1") == "validated"
    [record] = fake.received()
    assert record.validate_only
    assert record.outcome == "validated"
    assert fake.delivered() == []


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exception_type", "status"),
    [
        ("UNREGISTERED", messaging.UnregisteredError, 404),
        ("INVALID_ARGUMENT", exceptions.InvalidArgumentError, 400),
        ("QUOTA_EXCEEDED", messaging.QuotaExceededError, 429),
        ("UNAVAILABLE", exceptions.UnavailableError, 503),
        ("INTERNAL", exceptions.InternalError, 500),
        ("SENDER_ID_MISMATCH", messaging.SenderIdMismatchError, 403),
    ],
)
async def test_each_scripted_error_maps_to_its_firebase_exception(
    fake: FakeFcm, app: Any, code: str, exception_type: type[exceptions.FirebaseError], status: int
) -> None:
    fake.script("device-1", {"error": code})

    started = time.monotonic()
    response = await send_one(app, "device-1")

    assert time.monotonic() - started < 1  # no library retry loop
    assert type(response.exception) is exception_type
    assert response.exception.http_response.status_code == status
    body = response.exception.http_response.json()
    assert body["error"]["code"] == status
    assert body["error"]["details"][0] == {
        "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
        "errorCode": code,
    }
    # the fake records the outcome just after writing the answer the client already read
    assert await wait_for_outcome(fake, "device-1") == "rejected"
    [record] = fake.received()
    assert (record.response, record.outcome, record.written) == (code, "rejected", True)
    assert fake.delivered() == []


async def test_unregistered_has_fcm_v1_exact_shape(fake: FakeFcm, app: Any) -> None:
    fake.script("device-1", {"error": "UNREGISTERED"})

    response = await send_one(app, "device-1")

    assert response.exception.http_response.json() == {
        "error": {
            "code": 404,
            "message": "Requested entity was not found.",
            "status": "NOT_FOUND",
            "details": [
                {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
            ],
        }
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"error": "QUOTA_EXCEEDED", "retry_after": 2}, "2"),
        ({"error": "QUOTA_EXCEEDED"}, "1"),
        ({"error": "QUOTA_EXCEEDED", "retry_after": None}, None),
        ({"error": "UNAVAILABLE", "retry_after": 30}, "30"),
        ({"error": "UNAVAILABLE"}, None),
    ],
)
async def test_retry_after_is_visible_on_the_exception(
    fake: FakeFcm, app: Any, spec: dict[str, Any], expected: str | None
) -> None:
    fake.script("device-1", spec)

    response = await send_one(app, "device-1")

    assert response.exception.http_response.headers.get("Retry-After") == expected


async def test_the_queue_is_consumed_in_order_then_sends_succeed(fake: FakeFcm, app: Any) -> None:
    fake.script("device-1", {"error": "UNAVAILABLE"}, {"ok": True}, {"error": "UNREGISTERED"})

    results = [await send_one(app, "device-1") for _ in range(4)]

    assert [type(r.exception).__name__ if r.exception else "ok" for r in results] == [
        "UnavailableError",
        "ok",
        "UnregisteredError",
        "ok",
    ]


async def test_a_prefix_rule_answers_every_matching_token_after_its_queue(fake: FakeFcm, app: Any) -> None:
    fake.script_prefix("dead-", {"error": "UNREGISTERED"})
    fake.script("dead-but-queued", {"ok": True})

    batch = await messaging.send_each_async(
        [message("dead-1"), message("dead-2"), message("alive-1"), message("dead-but-queued")], app=app
    )

    assert [type(r.exception).__name__ if r.exception else "ok" for r in batch.responses] == [
        "UnregisteredError",
        "UnregisteredError",
        "ok",
        "ok",
    ]


async def test_seeded_rates_give_the_same_failures_each_run(fake: FakeFcm, app: Any) -> None:
    async def run() -> list[str]:
        fake.reset()
        fake.set_rates({"QUOTA_EXCEEDED": 0.3, "UNREGISTERED": 0.2}, retry_after=1, seed=7)
        for index in range(30):  # one at a time: the draws follow arrival order
            await send_one(app, f"device-{index}")
        return [record.response for record in fake.received()]

    first, second = await run(), await run()

    assert first == second
    assert {"ok", "QUOTA_EXCEEDED", "UNREGISTERED"} == set(first)


async def test_a_malformed_message_is_invalid_argument(fake: FakeFcm, app: Any) -> None:
    await send_one(app, "warm-up")
    token = fake.issued_tokens()[-1].access_token
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            fake.send_url(), json={"message": {"data": {}}}, headers={"authorization": f"Bearer {token}"}
        )

    assert answer.status_code == 400
    assert answer.json()["error"]["status"] == "INVALID_ARGUMENT"


# -- the library's own retries ----------------------------------------------------------------


async def test_with_its_default_client_the_library_retries_a_503_by_itself(
    fake: FakeFcm, service_account: dict[str, str]
) -> None:
    # Why the dispatcher turns them off: FCM saw a 503, the caller only sees a success.
    fake.script("device-1", {"error": "UNAVAILABLE"}, {"ok": True})

    async with firebase_app(fake, service_account, library_retries=True) as app:
        response = await send_one(app, "device-1")  # first retry has no backoff: stays fast

    assert response.success
    assert [record.response for record in fake.received()] == ["UNAVAILABLE", "ok"]


async def test_a_401_third_party_auth_error_is_resent_twice_after_token_refreshes(
    fake: FakeFcm, app: Any
) -> None:
    # firebase-admin treats any 401 as an expired token: refresh, resend, twice.
    fake.script_prefix("apns-broken-", {"error": "THIRD_PARTY_AUTH_ERROR"})

    response = await send_one(app, "apns-broken-1")

    assert isinstance(response.exception, messaging.ThirdPartyAuthError)
    assert len(fake.received()) == 3
    assert fake.stats()["token_requests"] == 3


# -- OAuth ------------------------------------------------------------------------------------


async def test_token_failures_surface_as_a_google_auth_exception(fake: FakeFcm, app: Any) -> None:
    fake.fail_token_requests(1, status=400)

    with pytest.raises(exceptions.UnknownError) as caught:
        await messaging.send_each_async([message("device-1")], app=app)

    assert isinstance(caught.value.cause, google.auth.exceptions.RefreshError)
    assert "invalid_grant" in str(caught.value.cause)
    assert fake.received() == []
    assert (await send_one(app, "device-1")).success  # one failure only


async def test_an_assertion_signed_with_an_unknown_key_is_refused(
    fake: FakeFcm, service_account: dict[str, str]
) -> None:
    impostor = fake_service_account(token_uri=fake.token_uri, project_id=PROJECT)
    assert impostor["client_email"] == service_account["client_email"]

    async with firebase_app(fake, impostor) as app:
        with pytest.raises(exceptions.UnknownError) as caught:
            await messaging.send_each_async([message("device-1")], app=app)

    assert isinstance(caught.value.cause, google.auth.exceptions.RefreshError)


async def test_a_revoked_token_gets_401_and_the_library_refreshes(fake: FakeFcm, app: Any) -> None:
    assert (await send_one(app, "device-1")).success
    fake.revoke_tokens()

    assert (await send_one(app, "device-2")).success

    assert [(r.token, r.response) for r in fake.received()] == [
        ("device-1", "ok"),
        ("device-2", "UNAUTHENTICATED"),
        ("device-2", "ok"),
    ]
    assert fake.stats()["token_requests"] == 2


async def test_a_send_without_a_valid_token_is_401_in_googles_shape(fake: FakeFcm) -> None:
    async with httpx.AsyncClient() as http:
        missing = await http.post(fake.send_url(), json={"message": {"token": "device-1"}})
        bogus = await http.post(
            fake.send_url(), json={"message": {"token": "device-1"}}, headers={"authorization": "Bearer nope"}
        )

    for answer in (missing, bogus):
        assert answer.status_code == 401
        assert answer.json()["error"]["status"] == "UNAUTHENTICATED"
    await settled(fake)
    assert [r.outcome for r in fake.received()] == ["rejected", "rejected"]


# -- delivery semantics -----------------------------------------------------------------------


async def test_a_client_that_times_out_during_a_delay_leaves_the_send_aborted(
    fake: FakeFcm, service_account: dict[str, str]
) -> None:
    fake.script("slow-device", {"delay_ms": 1500})

    async with firebase_app(fake, service_account, http_timeout=0.3) as app:
        await send_one(app, "warm-up")  # the token request is not subject to httpTimeout
        response = await send_one(app, "slow-device")

    assert isinstance(response.exception, exceptions.DeadlineExceededError)
    assert await wait_for_outcome(fake, "slow-device") == "aborted"
    [record] = fake.received("slow-device")
    assert not record.written
    assert record.name is not None  # FCM had an id ready, but nobody learnt it
    assert [r.token for r in fake.delivered()] == ["warm-up"]


async def test_a_cancelled_send_during_a_delay_is_aborted(fake: FakeFcm, app: Any) -> None:
    fake.script("slow-device", {"delay_ms": 1500})
    await send_one(app, "warm-up")

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(send_one(app, "slow-device"), 0.3)

    assert await wait_for_outcome(fake, "slow-device") == "aborted"


async def test_a_delayed_success_is_delivered_once_written(fake: FakeFcm, app: Any) -> None:
    fake.set_delay(200)

    started = time.monotonic()
    response = await send_one(app, "device-1")

    assert response.success
    assert time.monotonic() - started >= 0.2
    assert await wait_for_outcome(fake, "device-1") == "delivered"
    assert [r.delay_ms for r in fake.delivered()] == [200]


async def test_a_record_limit_keeps_the_last_sends_and_counts_them_all() -> None:
    async with FakeFcm(record_limit=2) as bounded, httpx.AsyncClient() as http:
        for index in range(3):
            await http.post(bounded.send_url(), json={"message": {"token": f"device-{index}"}})

        await settled(bounded)
        assert [record.seq for record in bounded.received()] == [2, 3]
        assert bounded.stats()["received"] == 3
        assert bounded.stats()["outcomes"] == {"rejected": 3}


# -- control API over HTTP ----------------------------------------------------------------------


async def test_the_control_api_scripts_and_reports(fake: FakeFcm, app: Any) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as http:
        assert (await http.get("/_fake/health")).json() == {"status": "ok"}
        queued = await http.post(
            "/_fake/script",
            json={
                "token": "device-1",
                "responses": [{"error": "QUOTA_EXCEEDED", "retry_after": 2}, {"ok": True}],
            },
        )
        assert queued.json() == {"token": "device-1", "queued": 2}
        assert (
            await http.post("/_fake/prefix", json={"prefix": "dead-", "error": "UNREGISTERED"})
        ).is_success
        bad = await http.post("/_fake/script", json={"token": "x", "responses": [{"error": "NOPE"}]})
        assert bad.status_code == 400

        first = await send_one(app, "device-1")
        dead = await send_one(app, "dead-1")
        await settled(fake)

        received = (await http.get("/_fake/received", params={"token": "device-1"})).json()
        assert [(r["token"], r["response"], r["retry_after"], r["outcome"]) for r in received] == [
            ("device-1", "QUOTA_EXCEEDED", 2, "rejected")
        ]
        assert (await http.get("/_fake/stats")).json()["responses"] == {
            "QUOTA_EXCEEDED": 1,
            "UNREGISTERED": 1,
        }
        await http.post("/_fake/reset")
        assert (await http.get("/_fake/received")).json() == []

    assert isinstance(first.exception, messaging.QuotaExceededError)
    assert isinstance(dead.exception, messaging.UnregisteredError)
    assert (await send_one(app, "dead-2")).success  # the reset removed the rule


# -- CLI ----------------------------------------------------------------------------------------


async def test_the_cli_writes_a_service_account_and_prints_the_urls(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account_file = tmp_path / "account.json"
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "tools.fake_fcm", "--port", str(port)],
        *["--service-account-out", str(account_file)],
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        banner = [(await process.stdout.readline()).decode().strip() for _ in range(7)]
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{port}/_fake/health")
    finally:
        process.terminate()
        await process.wait()

    assert health.json() == {"status": "ok"}
    document = json.loads(account_file.read_text())
    assert document["token_uri"] == f"http://127.0.0.1:{port}/token"
    assert oct(account_file.stat().st_mode & 0o777) == "0o600"
    assert f"FCM_SEND_URL=http://127.0.0.1:{port}/v1/projects/{{0}}/messages:send" in banner
    assert f"FCM_SERVICE_ACCOUNT_FILE={account_file}" in banner
