"""Real databases for the SQL adapter's tests: a temporary SQLite file, and PostgreSQL.

PostgreSQL tests run in a database created for the run (random name) and
dropped after it. Without a server they skip, printing why; with
``USERCORE_REQUIRE_POSTGRES=1`` (as in CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa

from usercore.adapters.sqlalchemy import (
    ConnectSettings,
    SqlAlchemyDatabase,
    SqlAlchemyEventLog,
    SqlAlchemySessionRepository,
    SqlAlchemyThrottleStore,
    SqlAlchemyUserRepository,
    migrate,
)
from usercore.ports.throttle import ThrottleStore
from usercore.testing import Repositories

ADMIN_URL = os.environ.get(
    "USERCORE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("USERCORE_REQUIRE_POSTGRES", "") not in ("", "0")


def _plain_dsn(url: sa.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database() -> str:
    """A new empty database on the test server; returns its SQLAlchemy URL."""
    admin = sa.make_url(ADMIN_URL)
    name = f"usercore_test_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(_plain_dsn(admin), timeout=5)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(drivername="postgresql+asyncpg", database=name).render_as_string(
        hide_password=False
    )


async def drop_postgres_database(url: str) -> None:
    """Drop a database made by :func:`create_postgres_database`, closing its sessions."""
    admin = sa.make_url(ADMIN_URL)
    name = sa.make_url(url).database
    conn = await asyncpg.connect(_plain_dsn(admin), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def postgres_unavailable_reason() -> str | None:
    """Why the PostgreSQL tests can't run here, or None when they can."""

    async def probe() -> None:
        conn = await asyncpg.connect(_plain_dsn(sa.make_url(ADMIN_URL)), timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        shown = sa.make_url(ADMIN_URL).render_as_string(hide_password=True)
        return f"no PostgreSQL server at {shown} ({type(exc).__name__}: {exc})"
    return None


def require_postgres() -> None:
    """Skip (or, with USERCORE_REQUIRE_POSTGRES set, fail) when there is no server."""
    reason = postgres_unavailable_reason()
    if reason is None:
        return
    if REQUIRE_POSTGRES:
        pytest.fail(f"{reason}; USERCORE_REQUIRE_POSTGRES is set", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database for this run, dropped at its end."""
    require_postgres()
    url = asyncio.run(create_postgres_database())
    try:
        asyncio.run(migrate_url(url))
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite file; tests work on copies of it."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    asyncio.run(migrate_url(sqlite_url(path)))
    return path


def sqlite_url(path: Path) -> str:
    """The URL of the SQLite file at ``path``."""
    return f"sqlite+aiosqlite:///{path}"


def fresh_sqlite(template: Path, directory: Path) -> str:
    """The URL of a new copy of the empty template database, in ``directory``."""
    path = directory / f"usercore-{secrets.token_hex(4)}.sqlite3"
    shutil.copyfile(template, path)
    return sqlite_url(path)


async def migrate_url(url: str) -> None:
    """Bring the database at ``url`` to the newest schema."""
    await migrate(ConnectSettings.parse(url, pool_size=2, timeout_seconds=10))


async def empty_postgres(url: str) -> None:
    """Delete every user, session and throttle record (the schema stays)."""
    conn = await asyncpg.connect(_plain_dsn(sa.make_url(url)), timeout=5)
    try:
        await conn.execute(
            "DELETE FROM usercore_sessions; DELETE FROM usercore_users; "
            "DELETE FROM usercore_login_throttle; DELETE FROM usercore_events; "
            "DELETE FROM usercore_event_subscribers; DELETE FROM usercore_events_parked"
        )
    finally:
        await conn.close()


def open_database(
    url: str, *, timeout_seconds: float = 5.0, pool_size: int = 10
) -> SqlAlchemyDatabase:
    """The adapter's database object for ``url``."""
    return SqlAlchemyDatabase.from_url(url, pool_size=pool_size, timeout_seconds=timeout_seconds)


def repositories_on(database: SqlAlchemyDatabase) -> Repositories:
    """Both repositories over one database."""
    return Repositories(
        users=SqlAlchemyUserRepository(database),
        sessions=SqlAlchemySessionRepository(database),
        events=SqlAlchemyEventLog(database),
    )


@asynccontextmanager
async def sql_repositories(url: str, *, empty_first: bool = False) -> AsyncIterator[Repositories]:
    """Repositories on the database at ``url``, disposed of on exit."""
    if empty_first:
        await empty_postgres(url)
    database = open_database(url)
    try:
        yield repositories_on(database)
    finally:
        await database.dispose()


@asynccontextmanager
async def sql_throttle_store(
    url: str, *, empty_first: bool = False
) -> AsyncIterator[ThrottleStore]:
    """The throttle store on the database at ``url``, disposed of on exit."""
    if empty_first:
        await empty_postgres(url)
    database = open_database(url)
    try:
        yield SqlAlchemyThrottleStore(database)
    finally:
        await database.dispose()
