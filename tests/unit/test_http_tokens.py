"""The token endpoints in process: RFC 6749 answers and errors, RFC 7009 revocation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.test_http_kit import PASSWORD, Api, memory_container, running_api

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(memory_container(tmp_path)) as running:
        await running.user("ada@example.com")
        yield running


async def test_password_grant_answers_tokens_uncached(api: Api) -> None:
    response = await api.client.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "ADA@example.com",
            "password": PASSWORD,
            "client_id": "ignored",
            "scope": "ignored too",
            "something_new": "ignored as RFC 6749 §3.2 asks",
        },
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)


@pytest.mark.parametrize(
    ("content", "status", "error"),
    [
        (b"grant_type=password&username=ada@example.com&password=wrong", 400, "invalid_grant"),
        (b"grant_type=password&username=nobody@example.com&password=x", 400, "invalid_grant"),
        (b"grant_type=password&username=not-an-email&password=x", 400, "invalid_grant"),
        (b"grant_type=refresh_token&refresh_token=unknown", 400, "invalid_grant"),
        (b"grant_type=client_credentials", 400, "unsupported_grant_type"),
        (b"grant_type=password&username=ada@example.com", 400, "invalid_request"),
        (b"grant_type=refresh_token", 400, "invalid_request"),
        (b"username=ada@example.com&password=x", 400, "invalid_request"),
        (b"grant_type=password&grant_type=refresh_token", 400, "invalid_request"),
        (b"grant_type=password&username=a%FF%FE@example.com&password=x", 400, "invalid_grant"),
        (
            b"grant_type=password&username=ada@example.com&password=" + b"x" * 70_000,
            413,
            "invalid_request",
        ),
    ],
)
async def test_token_errors_follow_rfc_6749(
    api: Api, content: bytes, status: int, error: str
) -> None:
    response = await api.client.post("/auth/token", content=content, headers=FORM)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"] == error


async def test_token_endpoint_refuses_json_bodies(api: Api) -> None:
    response = await api.client.post("/auth/token", json={"grant_type": "password"})
    assert response.status_code == 415
    assert response.json()["error"] == "invalid_request"


async def test_revoke_answers_200_always_but_needs_a_token(api: Api) -> None:
    revoked = await api.client.post("/auth/revoke", data={"token": "whatever"})
    assert (revoked.status_code, revoked.json()) == (200, {})
    assert revoked.headers["cache-control"] == "no-store"
    missing = await api.client.post("/auth/revoke", content=b"", headers=FORM)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


async def test_publishes_the_key_set(api: Api) -> None:
    response = await api.client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")
    assert "d" not in key  # never the private part
