"""The shipped migrations: they build exactly the adapter's tables, and go down and up again."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.integration.sqlalchemy.support import (
    create_postgres_database,
    drop_postgres_database,
    open_database,
    repositories_on,
    require_postgres,
    sqlite_url,
)
from usercore.adapters.sqlalchemy import ConnectSettings, schema
from usercore.adapters.sqlalchemy.engine import create_engine
from usercore.adapters.sqlalchemy.tables import VERSION_TABLE, include_object_for, metadata
from usercore.config import SettingsError
from usercore.container import migrate_storage
from usercore.domain.ids import UserId
from usercore.ports.errors import SchemaOutOfDateError
from usercore.testing import RecordFactory


@pytest.fixture
def postgres_available() -> None:
    require_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "empty.sqlite3")
        return
    require_postgres()
    url = asyncio.run(create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


def _differences(connection: sa.Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_object": include_object_for(connection.dialect.name),
            "version_table": VERSION_TABLE,
        },
    )
    return list(compare_metadata(context, metadata))


def _table_names(connection: sa.Connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names())


async def _on(url: str, work: Any, *, transactional: bool = True) -> Any:
    engine = create_engine(
        ConnectSettings.parse(url, pool_size=1, timeout_seconds=10), autocommit=not transactional
    )
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


async def test_upgrade_from_empty_builds_exactly_the_adapters_tables(empty_url: str) -> None:
    # The comparison sees the tables (so an empty result below means something).
    assert len(await _on(empty_url, _differences)) >= 2
    await migrate_storage(empty_url, pool_size=1, timeout_seconds=10)
    assert await _on(empty_url, _differences) == []
    assert await _on(empty_url, schema.current_revisions) == schema.head_revisions()


def test_the_head_revisions_constant_matches_the_shipped_scripts() -> None:
    assert schema.head_revisions() == schema.script_heads()


async def test_an_empty_database_is_at_no_revision(empty_url: str) -> None:
    assert await _on(empty_url, schema.current_revisions) == frozenset()


async def test_every_migration_upgrades_downgrades_and_upgrades_again(empty_url: str) -> None:
    revisions = list(
        ScriptDirectory.from_config(schema.alembic_config()).walk_revisions("base", "heads")
    )
    for script in reversed(revisions):  # oldest first
        await _on(empty_url, lambda c, r=script.revision: schema.upgrade(c, r))
        down_to = script.down_revision or "base"
        assert isinstance(down_to, str)
        await _on(empty_url, lambda c, r=down_to: schema.downgrade(c, r))
        await _on(empty_url, lambda c, r=script.revision: schema.upgrade(c, r))
    assert await _on(empty_url, _differences) == []
    await _on(empty_url, lambda c: schema.downgrade(c, "base"))
    assert _table_names_without_version(await _on(empty_url, _table_names)) == set()


def _table_names_without_version(names: set[str]) -> set[str]:
    return names - {VERSION_TABLE}


async def test_migrate_is_idempotent(empty_url: str) -> None:
    await migrate_storage(empty_url, pool_size=1, timeout_seconds=10)
    await migrate_storage(empty_url, pool_size=1, timeout_seconds=10)
    assert await _on(empty_url, _differences) == []


async def test_embedded_sqlite_migrates_itself_on_first_use(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "not" / "yet" / "there.sqlite3")
    database = open_database(url)
    try:
        users = repositories_on(database).users
        user = RecordFactory().user()
        await users.add(user)
        assert await users.get(user.id) == user
    finally:
        await database.dispose()
    assert await _on(url, _differences) == []


@pytest.mark.postgres
async def test_a_server_database_behind_the_code_refuses_use_and_names_migrate(
    postgres_available: None,
) -> None:
    url = await create_postgres_database()
    database = open_database(url)
    try:
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await repositories_on(database).users.get(RecordFactory().user().id)
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await repositories_on(database).users.ping()  # readiness reports it too
        # Nothing was created behind the operator's back.
        assert _table_names_without_version(await _on(url, _table_names)) == set()
        await migrate_storage(url, pool_size=1, timeout_seconds=10)
        # The same instance works once the schema is migrated.
        assert await repositories_on(database).users.get(RecordFactory().user().id) is None
    finally:
        await database.dispose()
        await drop_postgres_database(url)


async def test_a_missing_directory_of_an_explicit_sqlite_path_is_a_settings_error(
    tmp_path: Path,
) -> None:
    # A typo in the path must not silently create a second, empty database.
    url = sqlite_url(tmp_path / "fresh" / "dir" / "usercore.sqlite3")
    with pytest.raises(SettingsError, match=r"USERCORE_DATABASE_URL: the directory .* not exist"):
        await migrate_storage(url, pool_size=1, timeout_seconds=10)
    assert not (tmp_path / "fresh").exists()


async def test_the_data_directory_and_the_sqlite_files_are_private(tmp_path: Path) -> None:
    # Password hashes must not be readable by other local users, whatever the umask.
    data_dir = tmp_path / "data"
    url = sqlite_url(data_dir / "usercore.sqlite3")
    previous = os.umask(0o022)
    try:
        await migrate_storage(url, pool_size=1, timeout_seconds=10, data_dir=data_dir)
        database = open_database(url)
        try:
            await repositories_on(database).users.add(RecordFactory().user())
        finally:
            await database.dispose()
    finally:
        os.umask(previous)
    assert oct(data_dir.stat().st_mode & 0o777) == "0o700"
    files = sorted(data_dir.iterdir())
    assert [f.name for f in files][:1] == ["usercore.sqlite3"]
    for file in files:
        assert oct(file.stat().st_mode & 0o777) == "0o600", file.name


async def test_the_first_ping_migrates_the_embedded_database(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "pinged.sqlite3")
    database = open_database(url)
    try:
        await repositories_on(database).users.ping()
    finally:
        await database.dispose()
    assert await _on(url, _differences) == []


def _insert_r0001_user_with_sessions(connection: sa.Connection) -> None:
    # Rows as revision r0001 stored them: revocation by sessions_valid_after.
    sqlite = connection.dialect.name == "sqlite"

    def at(seconds: int) -> object:
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=seconds)
        return seconds * 1000 + 1_767_225_600_000 if sqlite else moment

    roles = "|user|" if sqlite else ["user"]
    connection.execute(
        sa.text(
            "INSERT INTO usercore_users VALUES (:id, 'ada@example.com', '', :roles, true, "
            "false, '$test$', :t0, :t0, 2, :valid_after)"
        ).bindparams(sa.bindparam("roles", type_=sa.ARRAY(sa.Text()) if not sqlite else sa.Text)),
        {"id": _OLD_USER, "roles": roles, "t0": at(0), "valid_after": at(100)},
    )
    for session_id, created in (("before-change", 50), ("after-change", 150)):
        connection.execute(
            sa.text(
                "INSERT INTO usercore_sessions VALUES (:id, :user_id, 'h', '[]', 0, :created, "
                ":created, :expires, NULL)"
            ),
            {
                "id": session_id,
                "user_id": _OLD_USER,
                "created": at(created),
                "expires": at(10_000),
            },
        )


_OLD_USER = "0193a000-0000-7000-8000-0000000000aa"


async def test_upgrading_keeps_sessions_voided_by_time_void(empty_url: str) -> None:
    # A session begun before the user's last password change was void under
    # r0001; the epoch revision must not bring it back at epoch 1.
    await _on(empty_url, lambda c: schema.upgrade(c, "r0001"))
    await _on(empty_url, _insert_r0001_user_with_sessions)
    await migrate_storage(empty_url, pool_size=1, timeout_seconds=10)
    database = open_database(empty_url)
    try:
        repositories = repositories_on(database)
        user = await repositories.users.get(UserId(_OLD_USER))
        before = await repositories.sessions.get("before-change")
        after = await repositories.sessions.get("after-change")
    finally:
        await database.dispose()
    assert user is not None
    assert before is not None
    assert after is not None
    assert user.credential_epoch == before.epoch == after.epoch == 1
    assert before.revoked_at is not None
    assert after.revoked_at is None
    assert await _on(empty_url, _differences) == []
