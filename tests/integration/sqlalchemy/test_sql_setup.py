"""How the SQL adapter connects: URLs and options, SQLite's settings, and a server that is down."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import attrs
import pytest

from tests.integration.sqlalchemy.support import open_database, repositories_on, sqlite_url
from usercore.adapters.sqlalchemy import ConnectSettings
from usercore.config import SettingsError
from usercore.container import backend_for, connect
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError
from usercore.ports.errors import StorageUnavailableError
from usercore.testing import RecordFactory


async def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    database = open_database(sqlite_url(tmp_path / "pragmas.sqlite3"), timeout_seconds=3)
    try:
        await repositories_on(database).users.ping()
        async with database.engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        await database.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 3000,
        "synchronous": 1,
    }


def test_url_options_override_the_settings() -> None:
    settings = ConnectSettings.parse(
        "sqlite:////tmp/x.sqlite3?timeout=2.5&pool_size=3&max_overflow=1&synchronous=FULL",
        pool_size=10,
        timeout_seconds=5,
    )
    assert (settings.timeout_seconds, settings.pool_size, settings.max_overflow) == (2.5, 3, 1)
    assert ConnectSettings.parse("sqlite:///x", pool_size=7, timeout_seconds=5).max_overflow == 0
    assert settings.sqlite_synchronous == "full"
    assert settings.url.render_as_string() == "sqlite+aiosqlite:////tmp/x.sqlite3"
    postgres = ConnectSettings.parse(
        "postgresql://u@db.example/app?ssl=require", pool_size=4, timeout_seconds=5
    )
    assert postgres.url.drivername == "postgresql+asyncpg"
    assert dict(postgres.url.query) == {"ssl": "require"}
    assert postgres.pool_size == 4


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db?timeout=soon",
        "sqlite:///x.db?synchronous=maybe",
        "sqlite:///x?timeout=0",
        "sqlite:///x?max_overflow=-1",
    ],
)
async def test_a_bad_url_option_is_a_settings_error_naming_the_url(url: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        async with connect(url):
            pass


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db",
        "sqlite+aiosqlite:///x.db",
        "postgresql://h/db",
        "postgresql+asyncpg://h/db",
    ],
)
def test_sql_schemes_pick_this_adapter(url: str) -> None:
    assert backend_for(url) == "sqlalchemy"


async def test_the_library_front_door_works_on_a_plain_sqlite_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'usercore.sqlite3'}"
    with pytest.raises(SettingsError, match="USERCORE_DATABASE_URL: the directory"):
        async with connect(url, argon2_memory_kib=64, argon2_time_cost=1):
            pass
    (tmp_path / "data").mkdir()
    async with connect(url, argon2_memory_kib=64, argon2_time_cost=1) as core:
        user = await core.users.register(
            email="Ada@Example.COM", password="a long and unusual passphrase"
        )
    async with connect(url, argon2_memory_kib=64, argon2_time_cost=1) as core:
        assert await core.users.find(user.id) == user


async def test_a_private_in_memory_sqlite_database_serves_concurrent_calls() -> None:
    database = open_database("sqlite+aiosqlite://")
    repos = repositories_on(database)
    make = RecordFactory()
    made = [make.user() for _ in range(30)]
    try:
        await asyncio.gather(*(repos.users.add(user) for user in made))
        found = await asyncio.gather(*(repos.users.get_by_email(u.email) for u in made))
        assert found == made
    finally:
        await database.dispose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_an_unreachable_server_at_start_up_does_not_stop_opening() -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/usercore"
    async with connect(url, db_timeout_seconds=1) as core:  # no error here
        with pytest.raises(StorageUnavailableError) as caught:
            await core.users.register(
                email="x@example.com", password="a long and unusual passphrase"
            )
    assert "127.0.0.1" not in str(caught.value)  # no connection details leak


async def test_the_email_lookup_is_exact_on_the_normalised_form(tmp_path: Path) -> None:
    database = open_database(sqlite_url(tmp_path / "email.sqlite3"))
    users = repositories_on(database).users
    try:
        user = RecordFactory().user(email="Ada@Example.COM")
        await users.add(user)
        assert await users.get_by_email(Email("ada@example.com")) == user
        assert await users.get_by_email(Email("Ada@Example.COM")) is None  # not normalised
    finally:
        await database.dispose()


async def test_workers_starting_together_on_a_new_sqlite_file_all_work(tmp_path: Path) -> None:
    # As `usercore serve --workers N` does: separate instances, one fresh file.
    url = sqlite_url(tmp_path / "shared.sqlite3")
    databases = [open_database(url) for _ in range(4)]
    make = RecordFactory()
    made = [make.user() for _ in databases]
    try:
        await asyncio.gather(
            *(repositories_on(db).users.add(u) for db, u in zip(databases, made, strict=True))
        )
        for user in made:
            assert await repositories_on(databases[0]).users.get(user.id) == user
    finally:
        for database in databases:
            await database.dispose()


async def test_clashes_are_reported_as_the_memory_adapter_does(sql_url: str) -> None:
    database = open_database(sql_url)
    users = repositories_on(database).users
    make = RecordFactory()
    user = make.user()
    try:
        await users.add(user)
        with pytest.raises(EmailTakenError):
            await users.add(user)  # same id and email: the email is reported
        with pytest.raises(ValueError, match="already stored"):
            await users.add(attrs.evolve(user, email=Email("other@example.com")))
        assert await users.get(user.id) == user
    finally:
        await database.dispose()
