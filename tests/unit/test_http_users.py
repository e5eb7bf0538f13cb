"""The account routes in process: statuses, headers and problem bodies of API.md's table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.unit.test_http_kit import PASSWORD, Api, memory_container, running_api

PROBLEM = "application/problem+json"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(memory_container(tmp_path)) as running:
        yield running


def assert_problem(response: object, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:usercore:problem:{slug}"
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return body


async def test_registers_with_location_etag_and_no_secret(api: Api) -> None:
    response = await api.client.post(
        "/users", json={"email": "Ada@Example.COM", "password": PASSWORD, "name": "Ada"}
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/users/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["cache-control"] == "no-store"
    assert set(body) == {
        "id", "email", "name", "roles", "is_active", "is_verified", "created_at", "updated_at",
        "version",
    }  # fmt: skip
    assert body["email"] == "ada@example.com"
    assert body["roles"] == ["user"]
    assert body["created_at"].endswith("Z")
    assert PASSWORD not in response.text


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "a" * 250 + "@example.com", "password": PASSWORD}, "email"),
        ({"email": "ada@example.com", "password": "x" * 1025}, "password"),
        ({"email": "ada@example.com", "password": PASSWORD, "name": "n" * 201}, "name"),
        ({"email": "ada@example.com", "password": PASSWORD, "roles": ["admin"]}, "roles"),
        ({"email": 12, "password": PASSWORD}, "email"),
        ({"password": PASSWORD}, "email"),
        ({"email": "ada@example.test", "password": PASSWORD}, "email"),
    ],
)
async def test_refuses_invalid_registrations(
    api: Api, payload: dict[str, object], field: str
) -> None:
    body = assert_problem(await api.client.post("/users", json=payload), 400, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]  # type: ignore[attr-defined]


async def test_refuses_weak_password_and_taken_email(api: Api) -> None:
    weak = await api.client.post("/users", json={"email": "ada@example.com", "password": "short"})
    body = assert_problem(weak, 400, "weak-password")
    assert body["reasons"]
    await api.user("ada@example.com")
    taken = await api.client.post("/users", json={"email": "ADA@example.com", "password": PASSWORD})
    assert_problem(taken, 409, "email-taken")


@pytest.mark.parametrize(
    ("content", "content_type", "status", "slug"),
    [
        (b"{bad json", "application/json", 400, "validation-error"),
        (b'{"email": "\xff\xfe"}', "application/json", 400, "validation-error"),
        (b"[]", "application/json", 400, "validation-error"),
        (b"", "application/json", 400, "validation-error"),
        (b"email=a", "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        (b"{}", "text/plain", 415, "unsupported-media-type"),
        (b"{" + b" " * 70_000 + b"}", "application/json", 413, "payload-too-large"),
    ],
)
async def test_bad_bodies_are_problems_never_500(
    api: Api, content: bytes, content_type: str, status: int, slug: str
) -> None:
    response = await api.client.post(
        "/users", content=content, headers={"content-type": content_type}
    )
    assert_problem(response, status, slug)


async def test_me_needs_a_bearer_token(api: Api) -> None:
    missing = await api.client.get("/users/me")
    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    bad = await api.client.get("/users/me", headers={"Authorization": "Bearer nope"})
    assert_problem(bad, 401, "invalid-token")
    assert bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    basic = await api.client.get("/users/me", headers={"Authorization": "Basic YTpi"})
    assert_problem(basic, 401, "unauthorized")


async def test_reads_and_patches_me_with_if_match(api: Api) -> None:
    _, auth = await api.user("ada@example.com")
    me = await api.client.get("/users/me", headers=auth)
    assert me.status_code == 200
    assert me.headers["etag"] == '"1"'
    renamed = await api.client.patch(
        "/users/me", json={"name": "Ada L"}, headers={**auth, "If-Match": '"1"'}
    )
    assert renamed.status_code == 200
    assert renamed.headers["etag"] == '"2"'
    assert renamed.json()["name"] == "Ada L"
    stale = await api.client.patch(
        "/users/me", json={"name": "X"}, headers={**auth, "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "version-mismatch")
    unconditional = await api.client.patch("/users/me", json={"name": "Ada B"}, headers=auth)
    assert unconditional.json()["version"] == 3
    malformed = await api.client.patch("/users/me", json={}, headers={**auth, "If-Match": "W/x"})
    assert_problem(malformed, 400, "validation-error")


@pytest.mark.parametrize("field", ["roles", "is_active", "is_verified", "id", "version"])
async def test_users_cannot_set_managed_fields_on_themselves(api: Api, field: str) -> None:
    _, auth = await api.user("ada@example.com")
    value: object = ["admin"] if field == "roles" else True
    response = await api.client.patch("/users/me", json={field: value}, headers=auth)
    assert_problem(response, 400, "validation-error")
    me = (await api.client.get("/users/me", headers=auth)).json()
    assert (me["roles"], me["is_verified"], me["version"]) == (["user"], False, 1)


async def test_changes_password_and_deletes_self(api: Api) -> None:
    _, auth = await api.user("ada@example.com")
    wrong = await api.client.put(
        "/users/me/password",
        json={"current_password": "wrong password here", "new_password": "another fine passphrase"},
        headers=auth,
    )
    assert_problem(wrong, 400, "invalid-credentials")
    weak = await api.client.put(
        "/users/me/password", json={"current_password": PASSWORD, "new_password": "x"}, headers=auth
    )
    assert_problem(weak, 400, "weak-password")
    changed = await api.client.put(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "another fine passphrase"},
        headers=auth,
    )
    assert changed.status_code == 204
    # The change ends every token of the user, the one that made it included.
    assert_problem(await api.client.get("/users/me", headers=auth), 401, "invalid-token")
    pair = await api.tokens.password_grant(
        email="ada@example.com", password="another fine passphrase"
    )
    auth = {"Authorization": f"Bearer {pair.access_token}"}
    unproven = await api.client.request("DELETE", "/users/me", headers=auth)
    assert_problem(unproven, 400, "validation-error")
    proof = {"current_password": "another fine passphrase"}
    deleted = await api.client.request("DELETE", "/users/me", json=proof, headers=auth)
    assert deleted.status_code == 204
    assert_problem(await api.client.get("/users/me", headers=auth), 401, "invalid-token")


async def test_another_users_record_is_not_found(api: Api) -> None:
    other, _ = await api.user("bob@example.com")
    _, auth = await api.user("ada@example.com")
    read = await api.client.get(f"/users/{other.id.value}", headers=auth)
    assert_problem(read, 404, "user-not-found")
    patched = await api.client.patch(f"/users/{other.id.value}", json={"name": "X"}, headers=auth)
    assert_problem(patched, 403, "forbidden")
    assert_problem(await api.client.get("/users/not-a-uuid", headers=auth), 400, "validation-error")
    assert_problem(await api.client.get("/users", headers=auth), 403, "forbidden")
    assert_problem(
        await api.client.delete(f"/users/{other.id.value}", headers=auth), 403, "forbidden"
    )


async def test_admin_lists_pages_patches_and_deletes(api: Api) -> None:
    _, admin = await api.user("root@example.com", admin=True)
    for number in range(5):
        await api.user(f"user{number}@example.com")
    first = await api.client.get("/users", params={"limit": 2}, headers=admin)
    assert first.status_code == 200
    page = first.json()
    assert len(page["items"]) == 2
    rest = await api.client.get(
        "/users", params={"limit": 100, "cursor": page["next_cursor"]}, headers=admin
    )
    assert len(rest.json()["items"]) == 4
    assert rest.json()["next_cursor"] is None
    filtered = await api.client.get(
        "/users",
        params={"email_prefix": "USER1", "role": "user", "is_active": "true"},
        headers=admin,
    )
    assert [user["email"] for user in filtered.json()["items"]] == ["user1@example.com"]
    for params in ({"limit": 0}, {"limit": 101}, {"cursor": "nope"}, {"role": "Bad Role"}):
        assert_problem(
            await api.client.get("/users", params=params, headers=admin), 400, "validation-error"
        )
    target = page["items"][1]["id"]
    patched = await api.client.patch(
        f"/users/{target}",
        json={"roles": ["user", "auditor"], "is_verified": True},
        headers={**admin, "If-Match": '"1"'},
    )
    assert patched.status_code == 200
    assert patched.json()["roles"] == ["auditor", "user"]
    assert patched.headers["etag"] == '"2"'
    assert (await api.client.delete(f"/users/{target}", headers=admin)).status_code == 204
    assert_problem(
        await api.client.delete(f"/users/{target}", headers=admin), 404, "user-not-found"
    )
    assert_problem(await api.client.get(f"/users/{target}", headers=admin), 404, "user-not-found")
