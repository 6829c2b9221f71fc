"""GraphQL over HTTP: spec media types, refusals (GET, batching), limits, masking of the unexpected."""

from __future__ import annotations

import dataclasses
import logging

import pytest

from backend.settings import Environment, get_settings
from tests.support.api import Api
from tests.support.factories import Factory

GRAPHQL_RESPONSE = "application/graphql-response+json"
ME = "{ me { id } }"


async def _post_raw(
    api: Api,
    body: bytes | str,
    *,
    accept: str | None = None,
    content_type: str = "application/json",
):  # type: ignore[no-untyped-def]
    headers = {"content-type": content_type}
    if accept:
        headers["accept"] = accept
    return await api.http.post("/graphql", content=body, headers=headers)


async def test_get_queries_are_refused(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": "{ __typename }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_batched_requests_are_refused(api: Api) -> None:
    response = await _post_raw(api, '[{"query": "{ __typename }"}, {"query": "{ __typename }"}]')
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"


@pytest.mark.parametrize("document", ["{ me { id ", "{ noSuchField }"])
async def test_parse_and_validation_failures_are_4xx_for_graphql_response_json(
    api: Api, document: str
) -> None:
    response = await _post_raw(api, f'{{"query": "{document}"}}', accept=GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"]


@pytest.mark.parametrize("document", ["{ me { id ", "{ noSuchField }"])
async def test_parse_and_validation_failures_are_200_for_legacy_json(api: Api, document: str) -> None:
    response = await _post_raw(api, f'{{"query": "{document}"}}', accept="application/json")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"]


async def test_successful_response_in_the_negotiated_media_type_echoes_the_request_id(
    api: Api,
) -> None:
    response = await api.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={
            "accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9",
            "x-request-id": "req-123",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.headers["x-request-id"] == "req-123"
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_unacceptable_accept_and_content_types_are_refused(api: Api) -> None:
    not_acceptable = await _post_raw(api, '{"query": "{ __typename }"}', accept="text/plain")
    unsupported = await _post_raw(
        api, "query=%7B__typename%7D", content_type="application/x-www-form-urlencoded"
    )
    not_json = await _post_raw(api, "{not json")
    no_query = await _post_raw(api, '{"variables": {}}')

    assert not_acceptable.status_code == 406
    assert unsupported.status_code == 415
    assert not_json.status_code == 400
    assert no_query.status_code == 400


async def test_over_deep_documents_are_refused(api: Api) -> None:
    cycle = "homeOrganization { users { edges { node { "
    document = "{ me { " + cycle * 4 + "id" + " } } } }" * 4 + " } }"
    body = (await api.post(document)).json()
    assert "data" not in body or body["data"] is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_too_many_aliases_are_refused(api: Api) -> None:
    document = "{ " + " ".join(f"a{i}: __typename" for i in range(21)) + " }"
    body = (await api.post(document)).json()
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_too_many_tokens_are_refused(api: Api) -> None:
    document = "{ " + "__typename " * 2100 + "}"
    body = (await api.post(document)).json()
    assert "token" in body["errors"][0]["message"].lower()


async def test_oversized_bodies_are_refused(api: Api) -> None:
    padding = "x" * (1_100_000)
    response = await api.http.post(
        "/graphql", json={"query": "{ __typename }", "variables": {"pad": padding}}
    )
    assert response.status_code == 413


async def test_validation_errors_hide_suggestions_outside_development(api: Api) -> None:
    body = (await api.post("{ mee { id } }")).json()
    message = body["errors"][0]["message"]
    assert "mee" in message
    assert "Did you mean" not in message


async def test_introspection_is_disabled_in_production() -> None:
    from backend.graphql.schema import build_schema

    production = dataclasses.replace(get_settings(), environment=Environment.PROD)
    result = await build_schema(production).execute("{ __schema { queryType { name } } }")
    development = await build_schema(get_settings()).execute("{ __schema { queryType { name } } }")

    assert result.errors and "introspection" in result.errors[0].message.lower()
    assert development.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_unexpected_errors_are_masked_logged_without_phi_and_rolled_back(
    api: Api, factory: Factory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from backend.auth import repository as auth_repository
    from backend.auth.tables import AuthSession

    # given a login that fails unexpectedly after it has written its session row
    user = await factory.user()
    sessions_before = await AuthSession.count().where(AuthSession.user == user.id)

    async def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"patient Jane Doe, MRN 998877, email {user.email}")

    monkeypatch.setattr(auth_repository, "insert_refresh_token", explode)
    caplog.set_level(logging.ERROR)
    # when
    response = await api.post(
        "mutation($i: LoginInput!) { login(input: $i) { __typename } }",
        {"i": {"email": user.email, "password": user.password, "deviceId": "d"}},
        headers={"x-request-id": "masked-1"},
    )
    # then the client sees a generic error, the log names the type but no PHI, nothing was committed
    body = response.json()
    assert body["errors"] == [
        {
            "message": "Internal server error.",
            "path": ["login"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "masked-1"},
        }
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "graphql.unexpected_error" in logged and "RuntimeError" in logged and "masked-1" in logged
    for secret in ("Jane Doe", "998877", user.email):
        assert secret not in logged
    assert await AuthSession.count().where(AuthSession.user == user.id) == sessions_before


async def test_rate_limit_answers_429_with_retry_after_and_spares_the_probes() -> None:
    from backend.app import create_app
    from tests.support.api import in_loop_client

    # given an app admitting 3 requests per minute per client address
    app = create_app(dataclasses.replace(get_settings(), rate_limit_per_minute=3))
    async with in_loop_client(app) as client:
        # when one address sends 4, then polls the probes
        responses = [await client.post("/graphql", json={"query": "{ __typename }"}) for _ in range(4)]
        probes = [(await client.get(path)).status_code for path in ("/healthz", "/readyz", "/healthz")]
    # then the 4th is refused with the request-level error body and when to retry
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    refused = responses[-1]
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 120
    # and the probes are never limited
    assert probes == [200, 200, 200]
