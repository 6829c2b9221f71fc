"""The sender's proxy: the environment's, for the FCM send URL, resolved once."""

from __future__ import annotations

import pytest

from backend.push.sender import proxy_for

FCM_SEND_URL = "https://fcm.googleapis.com/v1/projects/careloop/messages:send"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_proxy_configured_sends_directly(environment: pytest.MonkeyPatch) -> None:
    assert proxy_for(FCM_SEND_URL) is None


def test_https_proxy_carries_fcm_sends(environment: pytest.MonkeyPatch) -> None:
    # given a hospital network that reaches Google through a proxy
    environment.setenv("HTTPS_PROXY", "http://proxy.hospital.example:3128")

    # when the sender resolves its proxy, then it is that one
    proxy = proxy_for(FCM_SEND_URL)
    assert proxy is not None and str(proxy.url) == "http://proxy.hospital.example:3128"


def test_no_proxy_exempts_the_send_host(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("HTTPS_PROXY", "http://proxy.hospital.example:3128")
    environment.setenv("NO_PROXY", "localhost,.googleapis.com")

    assert proxy_for(FCM_SEND_URL) is None


def test_a_plain_http_url_ignores_https_proxy(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("HTTPS_PROXY", "http://secure-only.example:3128")

    assert proxy_for("http://127.0.0.1:9999/v1/projects/p/messages:send") is None
