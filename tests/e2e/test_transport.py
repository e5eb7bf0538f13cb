"""API.md transport details and operations over a real socket: bad input is never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import Server
from tests.e2e.test_accounts import problem

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("content", "headers", "status", "slug"),
    [
        (b'{"email": "a@example.com", "password": ', JSON, 400, "validation-error"),
        (b'{"email": "\xc3\x28@example.com", "password": "x"}', JSON, 400, "validation-error"),
        (b'{"email": 42, "password": 7}', JSON, 400, "validation-error"),
        (b'{"email": ["a"], "password": {"b": 1}}', JSON, 400, "validation-error"),
        (b'"just a string"', JSON, 400, "validation-error"),
        (b"null", JSON, 400, "validation-error"),
        (
            b'{"email": "a@example.com"}',
            {"content-type": "text/plain"},
            415,
            "unsupported-media-type",
        ),
        (b"<xml/>", {"content-type": "application/xml"}, 415, "unsupported-media-type"),
        (b'{"a": "' + b"x" * 1_000_000 + b'"}', JSON, 413, "payload-too-large"),
    ],
)
def test_bad_registrations_are_problems(
    server: Server, content: bytes, headers: dict[str, str], status: int, slug: str
) -> None:
    problem(server.client.post("/users", content=content, headers=headers), status, slug)


def test_huge_chunked_body_is_refused_early(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(64):
            yield b"x" * 4096
        yield b'"}'

    problem(server.client.post("/users", content=chunks(), headers=JSON), 413, "payload-too-large")


def test_malformed_ids_and_query_parameters(server: Server) -> None:
    _, auth = server.user_with_token("params@example.com")
    for path in ("/users/not-a-uuid", "/users/%00", "/users/" + "1" * 60):
        response = server.client.get(path, headers=auth)
        assert response.status_code in {400, 404}, response.text
        assert response.headers["content-type"] == "application/problem+json"
    for params in ({"limit": "ten"}, {"limit": "-1"}, {"is_active": "maybe"}):
        response = server.client.get("/users", params=params, headers=auth)
        assert response.status_code in {400, 403}


def test_unknown_routes_and_methods_are_problems(server: Server) -> None:
    problem(server.client.get("/no/such/route"), 404, "not-found")
    not_allowed = server.client.delete("/health/live")
    problem(not_allowed, 405, "method-not-allowed")
    assert "GET" in not_allowed.headers["allow"]


def test_every_response_has_a_request_id(server: Server) -> None:
    ids = {
        server.client.get(path).headers["x-request-id"]
        for path in ("/health/live", "/nope", "/metrics")
    }
    assert len(ids) == 3
    assert (
        server.client.get("/health/live", headers={"X-Request-ID": "trace-1"}).headers[
            "x-request-id"
        ]
        == "trace-1"
    )


def test_health_metrics_and_openapi(server: Server) -> None:
    assert server.client.get("/health/live").json() == {"status": "ok"}
    assert server.client.get("/health/ready").json() == {"status": "ok"}
    server.register("metrics@example.com")
    server.login("metrics@example.com")
    metrics = server.client.get("/metrics").text
    assert 'usercore_http_requests_total{method="POST",route="/users",status="201"}' in metrics
    assert "usercore_http_request_duration_seconds_bucket{" in metrics
    assert 'usercore_logins_total{outcome="success"}' in metrics
    document = server.client.get("/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {
        "/users",
        "/users/me",
        "/users/me/password",
        "/users/{user_id}",
        "/auth/token",
        "/auth/revoke",
    } <= set(document["paths"])
    assert server.client.get("/schema/swagger").status_code == 200
