"""Throttled logins over HTTP: RFC 6749 errors with Retry-After, alike for unknown emails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.test_http_kit import PASSWORD, Api, memory_container, running_api
from tests.unit.test_http_users import assert_problem


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(memory_container(tmp_path)) as api:
        yield api


async def _login(api: Api, email: str, password: str) -> tuple[int, str, str | None]:
    response = await api.client.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return response.status_code, response.json()["error"], response.headers.get("retry-after")


async def test_the_token_endpoint_answers_429_with_retry_after_alike_for_any_email(
    api: Api,
) -> None:
    await api.user("ada@example.com")
    answers = {}
    for email in ("ada@example.com", "nobody@example.com"):
        answers[email] = [await _login(api, email, "a wrong guess") for _ in range(5)]
        answers[email].append(await _login(api, email, PASSWORD))
    assert answers["ada@example.com"] == answers["nobody@example.com"]
    assert answers["ada@example.com"][:5] == [(400, "invalid_grant", None)] * 5
    assert answers["ada@example.com"][5] == (429, "invalid_grant", "1")


async def test_a_throttled_current_password_check_is_a_429_problem(api: Api) -> None:
    _, auth = await api.user("ada@example.com")
    change = {"current_password": "a wrong guess", "new_password": "a fine new passphrase"}
    for _ in range(5):
        wrong = await api.client.put("/users/me/password", json=change, headers=auth)
        assert_problem(wrong, 400, "invalid-credentials")
    throttled = await api.client.put("/users/me/password", json=change, headers=auth)
    assert_problem(throttled, 429, "too-many-requests")
    assert throttled.headers["retry-after"] == "1"
