"""One SQL database shared by both repositories: bounded, translated, schema-checked access."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from usercore.adapters.sqlalchemy import schema
from usercore.adapters.sqlalchemy.engine import ConnectSettings, create_engine
from usercore.adapters.sqlalchemy.errors import STORAGE_FAILURES, unavailable
from usercore.adapters.sqlalchemy.executors import ConnectionExecutor, Executor
from usercore.adapters.sqlalchemy.mapping import Codec, codec_for
from usercore.ports.errors import SchemaOutOfDateError


class SqlAlchemyDatabase:
    """A SQLite or PostgreSQL database and its engine.

    Nothing connects in ``__init__``: a server that is down at start-up only
    makes operations fail (``StorageUnavailableError``) until it answers.
    The schema is checked on the first operation that reaches the database;
    an embedded SQLite database is migrated then instead, a server database
    that is behind raises ``SchemaOutOfDateError``.

    Every operation runs under one time bound (``timeout_seconds``). On
    SQLite, writes of this process take turns on an asyncio lock, so they
    never contend for SQLite's file lock (other processes wait on the busy
    timeout instead).

    The repositories run their statements on :attr:`executor`: SQLAlchemy's
    ``AsyncConnection`` on SQLite, an asyncpg pool on PostgreSQL (whose
    engine then only checks the schema, without a pool of its own).
    """

    def __init__(self, settings: ConnectSettings, engine: AsyncEngine | None = None) -> None:
        self.settings = settings
        self.engine = engine if engine is not None else create_engine(settings)
        self.backend = settings.dialect
        self.codec: Codec = codec_for(settings.dialect)
        self.timeout = settings.timeout_seconds
        self._schema_ready = False
        self._schema_lock = asyncio.Lock()
        sqlite = settings.dialect == "sqlite"
        self._write_lock = asyncio.Lock() if sqlite else None
        # A private in-memory database is one shared connection: take turns on it.
        self._read_lock = self._write_lock if settings.in_memory else None
        self.executor: Executor
        if sqlite:
            self.executor = ConnectionExecutor(self.connect)
        else:
            # asyncpg is an optional dependency (usercore[postgres]): imported
            # only when a PostgreSQL URL is opened.
            from usercore.adapters.sqlalchemy.pool import PoolExecutor

            self.executor = PoolExecutor(settings, self.engine, self._ensure_schema)

    @classmethod
    def from_url(
        cls, database_url: str, *, pool_size: int = 10, timeout_seconds: float = 5.0
    ) -> SqlAlchemyDatabase:
        """A database for a ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URL.

        Raises:
            ValueError: The URL is not one of those, or has a bad option.
        """
        return cls(
            ConnectSettings.parse(
                database_url, pool_size=pool_size, timeout_seconds=timeout_seconds
            )
        )

    @contextlib.asynccontextmanager
    async def connect(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        """A SQLAlchemy connection for one operation, within the time bound (SQLite's executor).

        Driver exceptions escaping the block become ``StorageUnavailableError``;
        the caller translates the ones it expects (integrity errors) itself.
        """
        lock = self._write_lock if write else self._read_lock
        try:
            async with asyncio.timeout(self.timeout):
                if not self._schema_ready:
                    await self._ensure_schema()
                async with contextlib.AsyncExitStack() as stack:
                    if lock is not None:
                        await stack.enter_async_context(lock)
                    yield await stack.enter_async_context(self.engine.connect())
        except STORAGE_FAILURES as exc:
            raise unavailable(self.backend, exc, timeout=self.timeout) from exc

    async def ping(self) -> None:
        """Return when the database answers and its schema is usable.

        The first ping checks the schema like any first operation (and
        migrates the embedded SQLite database), so a readiness check or a
        start-up check reports a server database that needs ``usercore migrate``.

        Raises:
            StorageUnavailableError: The database does not answer in time.
            SchemaOutOfDateError: It answers, but its schema is behind.
        """
        await self.executor.ping()

    async def dispose(self) -> None:
        """Close every pooled connection; the database may still be used after."""
        await self.executor.dispose()
        await self.engine.dispose()

    async def _ensure_schema(self) -> None:
        async with self._schema_lock:
            if self._schema_ready:
                return
            if self.backend == "sqlite":
                await self._migrate_embedded()
            else:
                async with self.engine.connect() as conn:
                    current = await conn.run_sync(schema.current_revisions)
                heads = schema.head_revisions()
                if current != heads:
                    found = ", ".join(sorted(current)) or "no usercore tables"
                    raise SchemaOutOfDateError(
                        self.backend, f"found {found}, needs {', '.join(sorted(heads))}"
                    )
            self._schema_ready = True

    async def _migrate_embedded(self) -> None:
        _make_directory(self.settings)
        # Under the lock from the first connection on: a fresh file's switch
        # to WAL (that connection's pragma) needs every other connection out.
        async with _one_migration_at_a_time(self.settings):
            async with self.engine.connect() as conn:
                current = await conn.run_sync(schema.current_revisions)
            if current == schema.head_revisions():
                return
            if self.settings.in_memory:
                # The one shared connection is the database: migrate on it.
                async with self.engine.connect() as conn:
                    await conn.run_sync(schema.upgrade)
                return
            await _migrate(self.settings)


_PRIVATE_DIRECTORY = 0o700
_PRIVATE_FILE = 0o600


async def migrate(settings: ConnectSettings) -> None:
    """Bring the schema of the database at ``settings.url`` up to date, in one transaction.

    Raises:
        StorageUnavailableError: The database can't be reached.
    """
    try:
        _make_directory(settings)
        async with _one_migration_at_a_time(settings):
            await _migrate(settings)
    except OSError as exc:  # the directory, the file or the lock can't be made
        raise unavailable(settings.dialect, exc, timeout=settings.timeout_seconds) from exc


async def _migrate(settings: ConnectSettings) -> None:
    # Holding the migration lock (for SQLite files) is the caller's job.
    engine = create_engine(settings, autocommit=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(schema.upgrade)
    except STORAGE_FAILURES as exc:
        raise unavailable(settings.dialect, exc, timeout=settings.timeout_seconds) from exc
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _one_migration_at_a_time(settings: ConnectSettings) -> AsyncIterator[None]:
    """Hold a lock file beside an SQLite database while migrating it.

    Workers starting together on a fresh embedded file each migrate it; two
    deferred transactions that both read then write deadlock in SQLite (one
    gets "database is locked" after the busy timeout). Taken in turn, the
    later migrations find the schema at head and change nothing. PostgreSQL
    serialises migrations itself (DDL takes its locks in the transaction).
    """
    database = settings.url.database
    if settings.dialect != "sqlite" or settings.in_memory or not database:
        yield
        return
    descriptor = os.open(f"{database}.migrating", os.O_CREAT | os.O_RDWR, _PRIVATE_FILE)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _make_directory(settings: ConnectSettings) -> None:
    """Create an SQLite file readable by its owner only (and its directory), if missing.

    SQLite would create it with the process's umask (often 0644: password
    hashes readable by every local user); its WAL and shared-memory files
    take the database file's mode, so they are private too.
    """
    database = settings.url.database
    if settings.dialect != "sqlite" or settings.in_memory or not database:
        return
    path = Path(database)
    path.parent.mkdir(mode=_PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, _PRIVATE_FILE))
