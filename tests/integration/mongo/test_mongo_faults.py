"""An unreachable MongoDB server: StorageUnavailableError within the bound, never a pymongo error.

These use the real ``AsyncMongoClient`` against a closed port on 127.0.0.1,
so they need no server and run everywhere.
"""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import cast

import pytest

from usercore.adapters.mongo import (
    MongoEventLog,
    MongoSessionRepository,
    MongoStore,
    MongoUserRepository,
    default_database,
    mongo_client,
)
from usercore.config import SettingsError
from usercore.container.storage import Storage, backend_for, migrate_storage, open_storage
from usercore.domain.email import Email
from usercore.domain.listing import UserQuery
from usercore.ports.errors import StorageUnavailableError
from usercore.testing import RecordFactory, Repositories

pytestmark = [
    pytest.mark.mongo,
    # pymongo's async monitor leaks the socket of a connection attempt that
    # ``close()`` cancels (PYTHON-5867, mongodb/mongo-python-driver#2858): a
    # driver bug, not ours; only that ResourceWarning is silenced here.
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in. <socket\.socket:pytest.PytestUnraisableExceptionWarning"
    ),
]

TIMEOUT = 0.3
#: The client's timeouts bound each wait; the rest is scheduling slack on a busy machine.
BOUND = TIMEOUT + 2.0
NOW = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _collect_leaked_sockets() -> Iterator[None]:
    # Collect inside each test, where the filter above applies, not at exit.
    yield
    gc.collect()


@pytest.fixture(scope="module")
def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens there now: connections are refused at once.
    return f"mongodb://127.0.0.1:{port}/usercore?directConnection=true"


@pytest.fixture
async def repositories(closed_port_url: str) -> AsyncIterator[Repositories]:
    client = mongo_client(closed_port_url, timeout_seconds=TIMEOUT)
    store = MongoStore(default_database(client), timeout_seconds=TIMEOUT)
    try:
        yield Repositories(
            users=MongoUserRepository(store),
            sessions=MongoSessionRepository(store),
            events=MongoEventLog(store),
        )
    finally:
        await client.close()


async def _unavailable_within_bound(call: Awaitable[object]) -> StorageUnavailableError:
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError) as raised:
        await call
    assert time.monotonic() - started < BOUND
    assert raised.value.backend == "mongodb"
    return raised.value


Call = Callable[[Repositories, RecordFactory], Awaitable[object]]


def _rotate(repositories: Repositories, make: RecordFactory) -> Awaitable[bool]:
    session = make.session(make.user())
    rotated = session.rotated(token_hash="next", now=NOW, expires_at=NOW)
    return repositories.sessions.rotate(session, rotated)


CALLS: dict[str, Call] = {
    "ping": lambda r, m: r.users.ping(),
    "users.add": lambda r, m: r.users.add(m.user()),
    "users.get": lambda r, m: r.users.get(m.user().id),
    "users.get_by_email": lambda r, m: r.users.get_by_email(Email("ada@example.com")),
    "users.update": lambda r, m: r.users.update(m.user(), expected_version=1),
    "users.delete": lambda r, m: r.users.delete(m.user().id),
    "users.list": lambda r, m: r.users.list(UserQuery()),
    "sessions.add": lambda r, m: r.sessions.add(m.session(m.user())),
    "sessions.get": lambda r, m: r.sessions.get("0193e2a0-0000-7000-8000-000000000001"),
    "sessions.rotate": _rotate,
    "sessions.revoke": lambda r, m: r.sessions.revoke("any", now=NOW),
    "sessions.revoke_all": lambda r, m: r.sessions.revoke_all(m.user().id, now=NOW),
    "sessions.list_for_user": lambda r, m: r.sessions.list_for_user(m.user().id),
    "sessions.purge": lambda r, m: r.sessions.purge(now=NOW),
}


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_every_operation_raises_storage_unavailable_within_the_bound(
    repositories: Repositories, name: str
) -> None:
    error = await _unavailable_within_bound(CALLS[name](repositories, RecordFactory()))
    assert error.__cause__ is not None
    assert "pymongo" in type(error.__cause__).__module__


async def test_opening_storage_does_not_touch_the_server(closed_port_url: str) -> None:
    assert backend_for(closed_port_url) == "mongo"
    resource = cast(
        "AsyncGenerator[Storage, None]",
        open_storage(closed_port_url, pool_size=5, timeout_seconds=TIMEOUT),
    )
    storage = await anext(resource)
    try:
        await _unavailable_within_bound(storage.users.ping())
        await _unavailable_within_bound(storage.users.get(RecordFactory().user().id))
    finally:
        await resource.aclose()


async def test_migrate_raises_storage_unavailable_within_the_bound(closed_port_url: str) -> None:
    await _unavailable_within_bound(
        migrate_storage(closed_port_url, pool_size=5, timeout_seconds=TIMEOUT)
    )


async def test_a_malformed_url_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="not a usable MongoDB URL"):
        mongo_client("mongodb://127.0.0.1:99999/usercore")
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        await migrate_storage("mongodb://127.0.0.1:99999/usercore", 5, TIMEOUT)
