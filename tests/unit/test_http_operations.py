"""Operations and the error edge in process: problem table, probes, metrics, logs, outages."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest
from dependency_injector import providers
from litestar import get

from tests.unit.test_http_kit import PASSWORD, Api, memory_container, running_api
from tests.unit.test_http_users import assert_problem
from usercore.adapters.memory import (
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryUserRepository,
)
from usercore.container import Storage
from usercore.domain.email import Email
from usercore.domain.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    PermissionDeniedError,
    SessionNotFoundError,
    ThrottledError,
    UserNotFoundError,
    ValidationError,
    VersionConflictError,
    WeakPasswordError,
)
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.user import User
from usercore.entrypoints.http.errors import AuthenticationRequiredError, UnsupportedMediaTypeError
from usercore.entrypoints.http.logs import JsonFormatter, RequestIdFilter
from usercore.entrypoints.http.problems import PROBLEMS
from usercore.ports.errors import SchemaOutOfDateError, StorageUnavailableError
from usercore.ports.hashing import HasherBusyError

USER_ID = "01890a5d-ac96-774b-bcce-b302099a8057"
EXAMPLES: dict[type[Exception], Exception] = {
    ValidationError: ValidationError("email", "is malformed"),
    WeakPasswordError: WeakPasswordError(["Use at least 15 characters."]),
    InvalidCredentialsError: InvalidCredentialsError(),
    AuthenticationRequiredError: AuthenticationRequiredError(),
    InvalidTokenError: InvalidTokenError(),
    PermissionDeniedError: PermissionDeniedError("list_users"),
    UserNotFoundError: UserNotFoundError(USER_ID),
    SessionNotFoundError: SessionNotFoundError(USER_ID),
    EmailTakenError: EmailTakenError("ada@example.com"),
    ThrottledError: ThrottledError(7),
    VersionConflictError: VersionConflictError(USER_ID, 3),
    UnsupportedMediaTypeError: UnsupportedMediaTypeError("application/json"),
    StorageUnavailableError: StorageUnavailableError("sqlite", "connection refused at db.internal"),
    SchemaOutOfDateError: SchemaOutOfDateError("postgresql", "found db.internal revision 1"),
    HasherBusyError: HasherBusyError(retry_after_seconds=2),
    RuntimeError: RuntimeError("a secret detail of a bug"),
}
#: The table's entries raised by Litestar itself; tested through real requests below.
FRAMEWORK_ENTRIES = 6


class FlakyUsers(InMemoryUserRepository):
    """The memory repository, with a switch that makes every call fail like a dead database."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise StorageUnavailableError("flaky", "connection refused")

    async def add(self, user: User, *, events: Sequence[DomainEvent] = ()) -> None:
        self._check()
        await super().add(user, events=events)

    async def get(self, user_id: UserId) -> User | None:
        self._check()
        return await super().get(user_id)

    async def get_by_email(self, email: Email) -> User | None:
        self._check()
        return await super().get_by_email(email)

    async def list(self, query: UserQuery) -> Page[User]:
        self._check()
        return await super().list(query)

    async def ping(self) -> None:
        self._check()


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(memory_container(tmp_path)) as running:
        yield running


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("usercore")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def test_every_table_entry_has_an_example() -> None:
    assert len(EXAMPLES) - 1 + FRAMEWORK_ENTRIES == len(PROBLEMS)


@pytest.mark.parametrize("error", EXAMPLES.values(), ids=lambda error: type(error).__name__)
async def test_walks_the_problem_table(
    api: Api, error: Exception, captured_logs: io.StringIO
) -> None:
    @get("/_raise", sync_to_thread=False)
    def raising() -> None:
        raise error

    api.client.app.register(raising)
    response = await api.client.get("/_raise")
    entry = PROBLEMS.get(type(error))
    status, slug = (entry.status, entry.slug) if entry else (500, "internal-error")
    body = assert_problem(response, status, slug)
    assert "secret detail" not in response.text
    assert "db.internal" not in response.text
    if status == 401:
        assert response.headers["www-authenticate"].startswith("Bearer")
    if status in {429, 503}:
        assert response.headers["retry-after"]
    if status == 500:
        logged = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
        failure = next(line for line in logged if line["message"] == "unhandled error")
        assert failure["request_id"] == body["request_id"]
        assert "a secret detail of a bug" in failure["exception"]


async def test_unknown_route_and_method_are_problems(api: Api) -> None:
    assert_problem(await api.client.get("/nowhere"), 404, "not-found")
    not_allowed = await api.client.put("/health/live")
    assert_problem(not_allowed, 405, "method-not-allowed")
    assert "GET" in not_allowed.headers["allow"]


async def test_probes_and_metrics(api: Api) -> None:
    live = await api.client.get("/health/live")
    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (await api.client.get("/health/ready")).status_code == 200
    await api.user("ada@example.com")
    await api.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "ada@example.com", "password": PASSWORD},
    )
    await api.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "ada@example.com", "password": "nope"},
    )
    await api.client.get(f"/users/{USER_ID}")
    metrics = await api.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert (
        'usercore_http_requests_total{method="GET",route="/health/live",status="200"} 1.0' in text
    )
    assert 'route="/users/{user_id}",status="401"' in text
    assert USER_ID not in text
    assert (
        'usercore_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/health/live"'
        in text
    )
    assert 'usercore_logins_total{outcome="success"} 1.0' in text
    assert 'usercore_logins_total{outcome="failure"} 1.0' in text
    assert 'usercore_security_events_total{event="login_failed"} 1.0' in text
    assert 'usercore_security_events_total{event="refresh_token_reused"} 0.0' in text


async def test_security_events_are_logged_with_user_and_request_ids(
    api: Api, captured_logs: io.StringIO
) -> None:
    ada, auth = await api.user("ada@example.com")
    await api.client.post(
        "/auth/token",
        data={"grant_type": "password", "username": "ada@example.com", "password": "nope"},
        headers={"X-Request-ID": "req-wrong-password"},
    )
    await api.client.delete("/users/me/sessions", headers=auth)
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    events = {line["event"]: line for line in lines if line["logger"] == "usercore.security"}
    failed = events["login_failed"]
    assert (failed["user_id"], failed["reason"]) == (ada.id.value, "wrong_password")
    assert failed["request_id"] == "req-wrong-password"
    assert events["all_sessions_revoked"]["user_id"] == ada.id.value
    assert "nope" not in captured_logs.getvalue()


async def test_request_ids_are_echoed_or_made(api: Api, captured_logs: io.StringIO) -> None:
    sent = await api.client.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert sent.headers["x-request-id"] == "abc-123"
    forged = await api.client.get("/health/live", headers={"X-Request-ID": "bad\nid"})
    assert forged.headers["x-request-id"] != "bad\nid"
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    assert [(line["route"], line["status"], line["request_id"]) for line in lines] == [
        ("/health/live", 200, "abc-123"),
        ("/health/live", 200, forged.headers["x-request-id"]),
    ]
    assert {"method", "duration_ms", "ts", "level"} <= set(lines[0])


async def test_openapi_document_has_the_bearer_scheme(api: Api) -> None:
    document = (await api.client.get("/schema/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert document["paths"]["/users/me"]["get"]["security"] == [{"bearer": []}]
    assert "/health/live" not in document["paths"]
    swagger = await api.client.get("/schema/swagger")
    assert swagger.status_code == 200


async def test_storage_down_answers_503_and_resumes(tmp_path: Path) -> None:
    container = memory_container(tmp_path)
    store = InMemoryStore()
    users = FlakyUsers(store)
    container.storage.override(
        providers.Object(Storage(users=users, sessions=InMemorySessionRepository(store)))
    )
    async with running_api(container) as api:
        _, auth = await api.user("ada@example.com")
        users.down = True
        assert_problem(await api.client.get("/health/ready"), 503, "service-unavailable")
        assert_problem(await api.client.get("/users/me", headers=auth), 503, "service-unavailable")
        registration = {"email": "bob@example.com", "password": PASSWORD}
        assert_problem(
            await api.client.post("/users", json=registration), 503, "service-unavailable"
        )
        assert (await api.client.get("/health/live")).status_code == 200
        users.down = False
        assert (await api.client.get("/health/ready")).status_code == 200
        assert (await api.client.get("/users/me", headers=auth)).status_code == 200
    container.storage.reset_override()


async def test_odd_methods_share_one_metric_label(api: Api) -> None:
    for method in ("FOO", "BAR"):
        await api.client.request(method, "/health/live")
    text = (await api.client.get("/metrics")).text
    assert 'method="other",route="<unmatched>",status="405"} 2.0' in text
    assert "FOO" not in text


def test_log_lines_survive_extras_json_cannot_hold() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    record.peer = ("127.0.0.1", object())
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["request_id"]) == ("hello there", None)
    assert line["peer"][0] == "127.0.0.1"
