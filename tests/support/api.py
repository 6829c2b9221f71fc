"""A thin client for the public API: GraphQL over HTTP, with sign-in helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

# uvicorn closes a keep-alive connection idle for 5 s, httpx reuses one idle for up to 5 s: a POST
# sent on a connection the server is closing fails with ReadError and is not retried (seen once,
# under load, in tests/realtime/test_instances.py). Test clients drop idle connections sooner.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=2.0)


@asynccontextmanager
async def in_loop_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client for a second app (other settings), served on the test's own event loop.

    Not litestar's AsyncTestClient: it runs the app in another thread and blocks this loop while
    a request runs, freezing the live server mid-transaction; on SQLite the second app's writes
    then wait out the busy timeout holding the test (a CI run timed out this way).
    """
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://careloop.test") as client:
            yield client


LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    __typename
    ... on AuthPayload { accessToken refreshToken accessTokenExpiresAt refreshTokenExpiresAt }
    ... on AuthError { code message retryAfterSeconds }
    ... on InputError { fieldErrors { field code } }
  }
}
"""

ME = "query Me { me { id email memberships { organization { id name } roles } } }"


@dataclass
class Tokens:
    access: str
    refresh: str


class Api:
    def __init__(self, http: httpx.AsyncClient, server: Any) -> None:
        self.http = http
        self.server = server

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        all_headers = {"authorization": f"Bearer {token}"} if token else {}
        all_headers.update(headers or {})
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers
        )

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token=token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.gql(query, variables, token=token)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def login_result(self, email: str, password: str, device_id: str = "test-device") -> dict[str, Any]:
        data = await self.data(
            LOGIN, {"input": {"email": email, "password": password, "deviceId": device_id}}
        )
        result: dict[str, Any] = data["login"]
        return result

    async def login(self, email: str, password: str, device_id: str = "test-device") -> Tokens:
        result = await self.login_result(email, password, device_id)
        assert result["__typename"] == "AuthPayload", result
        return Tokens(access=result["accessToken"], refresh=result["refreshToken"])

    async def me_status(self, token: str) -> str:
        """'ok' when the token is accepted, otherwise the error code returned for `me`."""
        body = await self.gql(ME, token=token)
        if body.get("errors"):
            return str(body["errors"][0]["extensions"]["code"])
        return "ok"
