"""The contract suites and the state machine on the SQL adapter: SQLite and PostgreSQL.

Both run against real databases: a copy of a migrated SQLite file per test,
and a PostgreSQL database created for the run (emptied before each test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from tests.integration.sqlalchemy.support import (
    fresh_sqlite,
    postgres_url,
    sql_repositories,
    sql_throttle_store,
    sqlite_template,
)
from usercore.ports.throttle import ThrottleStore
from usercore.testing import (
    EventLogContract,
    Repositories,
    SessionRepositoryContract,
    ThrottleStoreContract,
    UserRepositoryContract,
)
from usercore.testing.event_machine import OutboxDeliveryMachine
from usercore.testing.machine import UserLifecycleMachine
from usercore.testing.throttle_machine import ThrottleStoreMachine

__all__ = ["postgres_url", "sqlite_template"]  # session fixtures, shared with this module


class SqliteBackend:
    @pytest.fixture
    async def repositories(
        self, sqlite_template: Path, tmp_path: Path
    ) -> AsyncIterator[Repositories]:
        async with sql_repositories(fresh_sqlite(sqlite_template, tmp_path)) as repositories:
            yield repositories

    @pytest.fixture
    async def throttle_store(
        self, sqlite_template: Path, tmp_path: Path
    ) -> AsyncIterator[ThrottleStore]:
        async with sql_throttle_store(fresh_sqlite(sqlite_template, tmp_path)) as store:
            yield store


@pytest.mark.postgres
class PostgresBackend:
    @pytest.fixture
    async def repositories(self, postgres_url: str) -> AsyncIterator[Repositories]:
        async with sql_repositories(postgres_url, empty_first=True) as repositories:
            yield repositories

    @pytest.fixture
    async def throttle_store(self, postgres_url: str) -> AsyncIterator[ThrottleStore]:
        async with sql_throttle_store(postgres_url, empty_first=True) as store:
            yield store


class TestSqliteUsers(SqliteBackend, UserRepositoryContract):
    pass


class TestSqliteEvents(SqliteBackend, EventLogContract):
    pass


class TestPostgresEvents(PostgresBackend, EventLogContract):
    pass


class TestSqliteSessions(SqliteBackend, SessionRepositoryContract):
    pass


class TestSqliteThrottle(SqliteBackend, ThrottleStoreContract):
    pass


class TestPostgresThrottle(PostgresBackend, ThrottleStoreContract):
    pass


class TestPostgresUsers(PostgresBackend, UserRepositoryContract):
    pass


class TestPostgresSessions(PostgresBackend, SessionRepositoryContract):
    pass


def test_sqlite_lifecycle_machine(sqlite_template: Path, tmp_path: Path) -> None:
    class SqliteMachine(UserLifecycleMachine):
        def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
            return sql_repositories(fresh_sqlite(sqlite_template, tmp_path))

    SqliteMachine.TestCase().runTest()


@pytest.mark.postgres
def test_postgres_lifecycle_machine(postgres_url: str) -> None:
    class PostgresMachine(UserLifecycleMachine):
        def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
            return sql_repositories(postgres_url, empty_first=True)

    PostgresMachine.TestCase().runTest()


def test_sqlite_delivery_machine(sqlite_template: Path, tmp_path: Path) -> None:
    class SqliteDeliveryMachine(OutboxDeliveryMachine):
        def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
            return sql_repositories(fresh_sqlite(sqlite_template, tmp_path))

    SqliteDeliveryMachine.TestCase().runTest()


@pytest.mark.postgres
def test_postgres_delivery_machine(postgres_url: str) -> None:
    class PostgresDeliveryMachine(OutboxDeliveryMachine):
        def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
            return sql_repositories(postgres_url, empty_first=True)

    PostgresDeliveryMachine.TestCase().runTest()


def test_sqlite_throttle_machine(sqlite_template: Path, tmp_path: Path) -> None:
    class SqliteThrottleMachine(ThrottleStoreMachine):
        def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
            return sql_throttle_store(fresh_sqlite(sqlite_template, tmp_path))

    SqliteThrottleMachine.TestCase().runTest()


@pytest.mark.postgres
def test_postgres_throttle_machine(postgres_url: str) -> None:
    class PostgresThrottleMachine(ThrottleStoreMachine):
        def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
            return sql_throttle_store(postgres_url, empty_first=True)

    PostgresThrottleMachine.TestCase().runTest()
