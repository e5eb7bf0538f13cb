"""API.md's account table over a real socket, with real tokens."""

from __future__ import annotations

import uuid

from tests.e2e.server import PASSWORD, Server, bearer

PROBLEM = "application/problem+json"


def problem(response: object, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:usercore:problem:{slug}"
    assert body["request_id"] == response.headers["x-request-id"]  # type: ignore[attr-defined]
    return body


def test_register_read_patch_and_delete_me(server: Server) -> None:
    created = server.client.post(
        "/users", json={"email": "Ada@Example.COM", "password": PASSWORD, "name": "Ada"}
    )
    assert created.status_code == 201
    user = created.json()
    assert created.headers["location"] == f"/users/{user['id']}"
    assert created.headers["etag"] == '"1"'
    assert uuid.UUID(user["id"]).version == 7
    assert "password" not in created.text
    auth = bearer(server.login("ada@example.com")["access_token"])
    me = server.client.get("/users/me", headers=auth)
    assert (me.status_code, me.json(), me.headers["etag"]) == (200, user, '"1"')
    assert server.client.get(f"/users/{user['id']}", headers=auth).json() == user
    patched = server.client.patch(
        "/users/me", json={"name": "Ada L."}, headers={**auth, "If-Match": '"1"'}
    )
    assert (patched.status_code, patched.headers["etag"]) == (200, '"2"')
    assert patched.json()["name"] == "Ada L."
    stale = server.client.patch(
        "/users/me", json={"name": "X"}, headers={**auth, "If-Match": '"1"'}
    )
    problem(stale, 412, "version-mismatch")
    moved = server.client.post(
        "/users/me/email",
        json={"email": "Ada.L@example.com", "current_password": PASSWORD},
        headers=auth,
    )
    assert (moved.status_code, moved.json()) == (202, {"pending_email": "ada.l@example.com"})
    wrong = server.client.request(
        "DELETE", "/users/me", json={"current_password": "not the password"}, headers=auth
    )
    problem(wrong, 400, "invalid-credentials")
    deleted = server.client.request(
        "DELETE", "/users/me", json={"current_password": PASSWORD}, headers=auth
    )
    assert deleted.status_code == 204
    gone = server.client.get("/users/me", headers=auth)
    problem(gone, 401, "invalid-token")
    assert 'error="invalid_token"' in gone.headers["www-authenticate"]


def test_registration_errors(server: Server) -> None:
    server.register("taken@example.com")
    problem(
        server.client.post("/users", json={"email": "TAKEN@example.com", "password": PASSWORD}),
        409,
        "email-taken",
    )
    problem(
        server.client.post("/users", json={"email": "weak@example.com", "password": "password"}),
        400,
        "weak-password",
    )
    problem(
        server.client.post(
            "/users", json={"email": "x@example.com", "password": PASSWORD, "is_active": 1}
        ),
        400,
        "validation-error",
    )


def test_email_changes_need_the_current_password_first(server: Server) -> None:
    server.register("first@example.com")
    _, auth = server.user_with_token("second@example.com")
    # PATCH is no way around the password check, nor an oracle for taken emails.
    patched = server.client.patch("/users/me", json={"email": "First@Example.com"}, headers=auth)
    assert "POST /users/me/email" in str(problem(patched, 400, "validation-error")["detail"])
    guessed = server.client.post(
        "/users/me/email",
        json={"email": "First@Example.com", "current_password": "a wrong guess"},
        headers=auth,
    )
    problem(guessed, 400, "invalid-credentials")
    taken = server.client.post(
        "/users/me/email",
        json={"email": "First@Example.com", "current_password": PASSWORD},
        headers=auth,
    )
    problem(taken, 409, "email-taken")


def test_change_password_revokes_every_token(server: Server) -> None:
    server.register("pw@example.com")
    tokens = server.login("pw@example.com")
    auth = bearer(tokens["access_token"])
    wrong = server.client.put(
        "/users/me/password",
        json={"current_password": "not my password at all", "new_password": "brand new passphrase"},
        headers=auth,
    )
    problem(wrong, 400, "invalid-credentials")
    weak = server.client.put(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=auth,
    )
    problem(weak, 400, "weak-password")
    changed = server.client.put(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": "brand new passphrase"},
        headers=auth,
    )
    assert changed.status_code == 204
    server.secrets.add("brand new passphrase")
    problem(server.client.get("/users/me", headers=auth), 401, "invalid-token")
    assert server.refresh(tokens["refresh_token"]).json() == {
        "error": "invalid_grant",
        "error_description": "The credentials or grant are not valid.",
    }
    fresh = bearer(server.login("pw@example.com", "brand new passphrase")["access_token"])
    assert server.client.get("/users/me", headers=fresh).status_code == 200


def test_users_cannot_reach_others_or_promote_themselves(server: Server) -> None:
    other, _ = server.user_with_token("other@example.com")
    me, auth = server.user_with_token("me@example.com")
    problem(server.client.get(f"/users/{other['id']}", headers=auth), 404, "user-not-found")
    problem(server.client.get(f"/users/{uuid.uuid4()}", headers=auth), 404, "user-not-found")
    problem(server.client.get("/users/12345", headers=auth), 400, "validation-error")
    problem(
        server.client.patch(f"/users/{other['id']}", json={"name": "x"}, headers=auth),
        403,
        "forbidden",
    )
    problem(server.client.delete(f"/users/{other['id']}", headers=auth), 403, "forbidden")
    problem(server.client.get("/users", headers=auth), 403, "forbidden")
    for change in (
        {"roles": ["admin"]},
        {"is_active": False},
        {"is_verified": True},
        {"version": 9},
    ):
        problem(
            server.client.patch("/users/me", json=change, headers=auth), 400, "validation-error"
        )
    assert server.client.get("/users/me", headers=auth).json() == me


def test_admin_manages_users(server: Server, admin: dict[str, str]) -> None:
    target, auth = server.user_with_token("managed@example.com")
    listed = server.client.get(
        "/users", params={"email_prefix": "MANAGED", "limit": 1}, headers=admin
    )
    assert listed.status_code == 200
    assert [user["id"] for user in listed.json()["items"]] == [target["id"]]
    first = server.client.get("/users", params={"limit": 1}, headers=admin).json()
    assert first["next_cursor"]
    following = server.client.get(
        "/users", params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin
    ).json()
    assert following["items"][0]["id"] > first["items"][0]["id"]
    assert server.client.get(f"/users/{target['id']}", headers=admin).json() == target
    promoted = server.client.patch(
        f"/users/{target['id']}",
        json={"roles": ["user", "admin"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert (promoted.status_code, promoted.json()["roles"]) == (200, ["admin", "user"])
    # Authorization reads the stored user: the old token now acts as an admin.
    assert server.client.get("/users", headers=auth).status_code == 200
    demoted = server.client.patch(f"/users/{target['id']}", json={"roles": ["user"]}, headers=admin)
    assert demoted.status_code == 200
    problem(server.client.get("/users", headers=auth), 403, "forbidden")
    assert server.client.delete(f"/users/{target['id']}", headers=admin).status_code == 204
    problem(server.client.delete(f"/users/{target['id']}", headers=admin), 404, "user-not-found")
    problem(server.client.get("/users/me", headers=auth), 401, "invalid-token")


def test_deactivation_voids_tokens_for_good(server: Server, admin: dict[str, str]) -> None:
    target = server.register("inactive@example.com")
    tokens = server.login("inactive@example.com")
    auth = bearer(tokens["access_token"])
    off = server.client.patch(f"/users/{target['id']}", json={"is_active": False}, headers=admin)
    assert (off.status_code, off.json()["is_active"]) == (200, False)
    problem(server.client.get("/users/me", headers=auth), 401, "invalid-token")
    assert server.refresh(tokens["refresh_token"]).status_code == 400
    login = server.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "inactive@example.com", "password": PASSWORD},
    )
    assert login.json()["error"] == "invalid_grant"
    server.client.patch(f"/users/{target['id']}", json={"is_active": True}, headers=admin)
    problem(server.client.get("/users/me", headers=auth), 401, "invalid-token")
    assert server.refresh(tokens["refresh_token"]).status_code == 400
