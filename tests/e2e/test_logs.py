"""The server's log of a full session: one line per request, with its id, and never a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.server import E2E_BACKENDS, PASSWORD, Server, bearer, running_server

NEW_PASSWORD = "a different long passphrase"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    backend = E2E_BACKENDS[-1]
    with running_server(Path(tmp_path_factory.mktemp("logs")), backend) as running:
        yield running


def test_a_full_session_logs_no_secret(server: Server) -> None:
    client = server.client
    server.register("logged@example.com", name="Logged")
    tokens = server.login("logged@example.com")
    auth = bearer(tokens["access_token"])
    client.get("/users/me", headers=auth)
    rotated = server.refresh(tokens["refresh_token"]).json()
    server.refresh(tokens["refresh_token"])  # reuse: revokes the family
    client.post(
        "/auth/token",
        data={
            "grant_type": "password",
            "username": "logged@example.com",
            "password": "wrong guess",
        },
    )
    client.put(
        "/users/me/password",
        json={"current_password": "wrong guess", "new_password": NEW_PASSWORD},
        headers=auth,
    )
    client.put(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=auth,
    )
    server.secrets.update(("wrong guess", NEW_PASSWORD))
    fresh = server.login("logged@example.com", NEW_PASSWORD)
    client.post("/auth/revoke", data={"token": fresh["refresh_token"]})
    client.post("/users", content=b'{"email": 1, "password": "' + PASSWORD.encode() + b'"}')
    client.get("/users/me", headers={"Authorization": "Bearer " + rotated["access_token"]})
    client.request(
        "DELETE",
        "/users/me",
        json={"current_password": NEW_PASSWORD},
        headers=bearer(fresh["access_token"]),
    )

    log = server.log_file.read_text()
    for secret in server.secrets:
        assert secret not in log
    assert "$argon2" not in log
    throttle_key = (server.log_file.parent / "throttle-key").read_text().strip()
    assert len(throttle_key) == 64  # the HMAC key, in hex
    assert throttle_key not in log
    requests = [
        json.loads(line)
        for line in log.splitlines()
        if line.startswith("{") and json.loads(line)["logger"] == "usercore.http.access"
    ]
    assert len(requests) >= 12
    for line in requests:
        assert {"method", "route", "status", "duration_ms", "request_id", "ts"} <= set(line)
        assert line["request_id"]
    assert {line["route"] for line in requests} >= {"/users", "/auth/token", "/users/me"}
    events = {
        line["event"]: line
        for line in map(json.loads, filter(lambda text: text.startswith("{"), log.splitlines()))
        if line["logger"] == "usercore.security"
    }
    expected = {
        "login_failed",
        "refresh_token_reused",
        "reauthentication_failed",
        "password_changed",
        "session_revoked",
        "user_deleted",
    }
    assert expected <= set(events)
    for name in expected:
        assert events[name]["request_id"]
        assert events[name]["user_id"]
