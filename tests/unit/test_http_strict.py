"""Strict request decoding: no coercion, no crash, a 400 naming the field for any bad body."""

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


# null is allowed: it means "unchanged" (docs/http.md).
@pytest.mark.parametrize("value", [1, 0, "1", "true", "null", [], {}])
async def test_booleans_are_only_true_or_false(api: Api, value: object) -> None:
    target, _ = await api.user("ada@example.com")
    _, admin = await api.user("root@example.com", admin=True)
    response = await api.client.patch(
        f"/users/{target.id.value}", json={"is_verified": value}, headers=admin
    )
    body = assert_problem(response, 400, "validation-error")
    assert [error["field"] for error in body["errors"]] == ["is_verified"]  # type: ignore[attr-defined]
    unchanged = await api.client.get(f"/users/{target.id.value}", headers=admin)
    assert unchanged.json()["is_verified"] is False


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": 12, "password": PASSWORD}, "email"),
        ({"email": "ada@example.com", "password": ["x"]}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": None}, "name"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": 3.5}, "name"),
    ],
)
async def test_strings_are_never_made_from_other_types(
    api: Api, payload: dict[str, object], field: str
) -> None:
    response = await api.client.post("/users", json=payload)
    body = assert_problem(response, 400, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body", [b"[" * 2048, b'{"email": ' + b"[" * 30_000, b"{" * 5000, b"\xff\xfe", b"nul"]
)
async def test_any_malformed_or_deeply_nested_body_is_a_400(api: Api, body: bytes) -> None:
    response = await api.client.post(
        "/users", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 400, "validation-error")


@pytest.mark.parametrize("if_match", ['"²"', '"٣"', '"1e3"', '"-1"', '" 1"', '"3"x'])
async def test_if_match_takes_ascii_digits_only(api: Api, if_match: str) -> None:
    _, auth = await api.user("ada@example.com")
    response = await api.client.patch(
        "/users/me",
        json={"name": "Ada"},
        headers={
            **{k.encode(): v.encode() for k, v in auth.items()},
            b"If-Match": if_match.encode(),
        },
    )
    assert_problem(response, 400, "validation-error")


@pytest.mark.parametrize(
    "query", ["is_active=1", "is_active=yes", "is_active=True", "limit=5.0", "limit=x", "limit=0"]
)
async def test_query_parameters_are_strict_too(api: Api, query: str) -> None:
    _, admin = await api.user("root@example.com", admin=True)
    assert_problem(await api.client.get(f"/users?{query}", headers=admin), 400, "validation-error")


async def test_the_active_filter_takes_true_or_false(api: Api) -> None:
    _, admin = await api.user("root@example.com", admin=True)
    active = await api.client.get("/users?is_active=true", headers=admin)
    inactive = await api.client.get("/users?is_active=false", headers=admin)
    assert [len(active.json()["items"]), len(inactive.json()["items"])] == [1, 0]
