"""Every backend as a fixture, for the cross-backend tests of use cases (races, lost answers).

Import ``open_backend`` and ``repositories`` (and the session fixtures they
use) into a test module to run its tests on memory, SQLite, PostgreSQL and
MongoDB alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.contract.test_memory import memory_repositories
from tests.integration.mongo.support import mongo_repositories
from tests.integration.sqlalchemy.support import (
    fresh_sqlite,
    postgres_url,
    sql_repositories,
    sqlite_template,
)
from usercore.testing import Repositories

__all__ = ["Opener", "open_backend", "postgres_url", "repositories", "sqlite_template"]

Opener = Callable[[], AbstractAsyncContextManager[Repositories]]


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mongo", marks=pytest.mark.mongo),
    ]
)
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens repositories over empty storage of one backend."""
    # Synchronous, so the session fixtures that set databases up may run their own loops.
    if request.param == "sqlite":
        url = fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
        return lambda: sql_repositories(url)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return lambda: sql_repositories(url, empty_first=True)
    return mongo_repositories if request.param == "mongo" else memory_repositories


@pytest.fixture
async def repositories(open_backend: Opener) -> AsyncIterator[Repositories]:
    """Repositories over empty storage of each backend in turn."""
    async with open_backend() as repositories:
        yield repositories
