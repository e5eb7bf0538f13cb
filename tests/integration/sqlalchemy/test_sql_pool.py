"""PostgreSQL runs the repositories' statements on asyncpg connections in the adapter's pool."""

from __future__ import annotations

from datetime import UTC

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy import pool

from tests.integration.sqlalchemy.support import empty_postgres, open_database, repositories_on
from usercore.adapters.sqlalchemy import ConnectSettings
from usercore.adapters.sqlalchemy.pool import PoolExecutor, connect_options
from usercore.domain.listing import UserQuery
from usercore.domain.roles import Role
from usercore.testing import RecordFactory


def _options(url: str) -> dict[str, object]:
    settings = ConnectSettings.parse(url, pool_size=4, timeout_seconds=2)
    return connect_options(settings, sa.create_engine("postgresql+asyncpg://").dialect)


def test_the_pool_is_bounded_by_pool_size_and_overflow() -> None:
    database = open_database("postgresql://u:pw@db.example:6432/app?max_overflow=1", pool_size=4)
    assert isinstance(database.executor, PoolExecutor)
    assert database.executor.max_connections == 5


def test_connections_get_the_url_options_and_a_statement_timeout() -> None:
    options = _options("postgresql://u:pw@db.example:6432/app?max_overflow=1&ssl=require")
    assert options["ssl"] == "require"
    assert (options["host"], options["port"], options["database"]) == ("db.example", 6432, "app")
    assert options["server_settings"] == {
        "application_name": "usercore",
        "statement_timeout": "2000",
    }
    assert "statement_cache_size" not in options  # asyncpg's default: statements are cached


@pytest.mark.parametrize("option", ["statement_cache_size", "prepared_statement_cache_size"])
def test_the_statement_cache_can_be_turned_off_for_pgbouncer(option: str) -> None:
    assert _options(f"postgresql://u@db/app?{option}=0")["statement_cache_size"] == 0


def test_a_bad_cache_size_is_refused_at_open() -> None:
    with pytest.raises(ValueError, match="statement_cache_size"):
        open_database("postgresql://u@db/app?statement_cache_size=many")


@pytest.mark.postgres
async def test_without_a_statement_cache_every_operation_still_works(postgres_url: str) -> None:
    await empty_postgres(postgres_url)
    database = open_database(f"{postgres_url}?statement_cache_size=0")
    repos = repositories_on(database)
    make = RecordFactory()
    try:
        user = make.user(roles=frozenset({Role.USER, Role("auditor")}))
        await repos.users.add(user)
        assert await repos.users.get(user.id) == user
        page = await repos.users.list(UserQuery(limit=5, role=Role("auditor")))
        assert page.items == (user,)
    finally:
        await database.dispose()


@pytest.mark.postgres
async def test_rows_come_back_with_driver_types_and_the_engine_keeps_no_pool(
    postgres_url: str,
) -> None:
    await empty_postgres(postgres_url)
    database = open_database(postgres_url)
    repos = repositories_on(database)
    try:
        user = RecordFactory().user(roles=frozenset({Role.ADMIN, Role.USER}))
        await repos.users.add(user)
        assert isinstance(database.executor, PoolExecutor)
        assert isinstance(database.engine.pool, pool.NullPool)
        stored = await repos.users.get(user.id)
        assert stored is not None
        assert stored.created_at.tzinfo == UTC
        assert stored.roles == user.roles
        assert stored.is_active is True
        conn = await asyncpg.connect(
            sa.make_url(postgres_url).set(drivername="postgresql").render_as_string(False)
        )
        try:
            sessions = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = 'usercore' AND datname = current_database()"
            )
        finally:
            await conn.close()
        assert sessions == 1  # the pool's one connection; the schema check's is closed
    finally:
        await database.dispose()
