"""The session routes over HTTP: list mine, end one, log out everywhere, an admin's log-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.test_http_kit import PASSWORD, Api, memory_container, running_api
from tests.unit.test_http_users import assert_problem

EMAIL = "ada@example.com"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(memory_container(tmp_path)) as api:
        yield api


async def _login(api: Api, user_agent: str) -> dict[str, str]:
    response = await api.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": EMAIL, "password": PASSWORD},
        headers={"User-Agent": user_agent},
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_lists_my_live_sessions_newest_first_marking_the_current_one(api: Api) -> None:
    await api.user(EMAIL)
    phone = await _login(api, "Phone/1.0")
    laptop = await _login(api, "Laptop/2.0")

    response = await api.client.get("/users/me/sessions", headers=_bearer(phone))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    items = response.json()["items"]
    assert [(item["user_agent"], item["current"]) for item in items] == [
        ("Laptop/2.0", False),
        ("Phone/1.0", True),
        ("", False),  # the session api.user() started through the library
    ]
    assert items[1]["id"] == phone["refresh_token"].partition(".")[0]
    assert items[0]["last_used_at"] == items[0]["created_at"]
    assert "token" not in response.text.replace("access_token", "")
    assert laptop["refresh_token"] not in response.text


async def test_ending_one_session_stops_its_refresh_token(api: Api) -> None:
    await api.user(EMAIL)
    phone = await _login(api, "Phone/1.0")
    laptop = await _login(api, "Laptop/2.0")
    laptop_id = laptop["refresh_token"].partition(".")[0]

    ended = await api.client.delete(f"/users/me/sessions/{laptop_id}", headers=_bearer(phone))

    assert ended.status_code == 204
    refreshed = await api.client.post(
        "/auth/token",
        data={"grant_type": "refresh_token", "refresh_token": laptop["refresh_token"]},
    )
    assert (refreshed.status_code, refreshed.json()["error"]) == (400, "invalid_grant")
    again = await api.client.delete(f"/users/me/sessions/{laptop_id}", headers=_bearer(phone))
    assert_problem(again, 404, "session-not-found")
    malformed = await api.client.delete("/users/me/sessions/not-a-uuid", headers=_bearer(phone))
    assert_problem(malformed, 400, "validation-error")


async def test_nobody_ends_another_users_session(api: Api) -> None:
    await api.user(EMAIL)
    victim = await _login(api, "Phone/1.0")
    _, mallory = await api.user("mallory@example.com")
    victim_id = victim["refresh_token"].partition(".")[0]

    response = await api.client.delete(f"/users/me/sessions/{victim_id}", headers=mallory)

    assert_problem(response, 404, "session-not-found")
    listed = await api.client.get("/users/me/sessions", headers=_bearer(victim))
    assert victim_id in [item["id"] for item in listed.json()["items"]]


async def test_log_out_everywhere_ends_every_token_this_one_included(api: Api) -> None:
    await api.user(EMAIL)
    phone = await _login(api, "Phone/1.0")
    laptop = await _login(api, "Laptop/2.0")

    response = await api.client.delete("/users/me/sessions", headers=_bearer(phone))

    assert response.status_code == 204
    for tokens in (phone, laptop):
        assert_problem(
            await api.client.get("/users/me", headers=_bearer(tokens)), 401, "invalid-token"
        )


async def test_an_admin_ends_every_session_of_a_user(api: Api) -> None:
    user, _ = await api.user(EMAIL)
    _, admin = await api.user("root@example.com", admin=True)
    phone = await _login(api, "Phone/1.0")

    assert_problem(
        await api.client.delete(f"/users/{user.id.value}/sessions", headers=_bearer(phone)),
        403,
        "forbidden",
    )
    response = await api.client.delete(f"/users/{user.id.value}/sessions", headers=admin)

    assert response.status_code == 204
    assert_problem(await api.client.get("/users/me", headers=_bearer(phone)), 401, "invalid-token")
    unknown = "0193a000-0000-7000-8000-0000000000aa"
    assert_problem(
        await api.client.delete(f"/users/{unknown}/sessions", headers=admin),
        404,
        "user-not-found",
    )
