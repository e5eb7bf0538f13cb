"""Storage backends: which adapter serves a database URL, started and stopped as a resource."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from usercore.adapters.memory import (
    InMemoryEventLog,
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryThrottleStore,
    InMemoryUserRepository,
)
from usercore.config import SettingsError
from usercore.ports.events import EventLog
from usercore.ports.sessions import SessionRepository
from usercore.ports.throttle import ThrottleStore
from usercore.ports.users import UserRepository

if TYPE_CHECKING:
    # Only for annotations: pymongo is an optional extra, imported when used.
    from pymongo import AsyncMongoClient

    from usercore.adapters.sqlalchemy import SqlAlchemyDatabase

#: URL scheme -> backend name.
BACKENDS = {
    "memory": "memory",
    "mongodb": "mongo",
    "mongodb+srv": "mongo",
    "sqlite": "sqlalchemy",
    "sqlite+aiosqlite": "sqlalchemy",
    "postgresql": "sqlalchemy",
    "postgresql+asyncpg": "sqlalchemy",
}


@attrs.frozen
class Storage:
    """The repositories of one backend, sharing its connections.

    ``throttle`` defaults to a store in process memory, and ``events`` to an
    outbox in process memory, for storage put together by hand (tests); every
    backend here passes its own.
    """

    users: UserRepository
    sessions: SessionRepository
    throttle: ThrottleStore = attrs.field(factory=InMemoryThrottleStore)
    events: EventLog = attrs.field(factory=lambda: InMemoryEventLog(InMemoryStore()))


def backend_for(database_url: str) -> str:
    """The backend that serves ``database_url``, chosen by its scheme.

    Raises:
        SettingsError: No backend knows the scheme.
    """
    scheme = urlsplit(database_url).scheme
    try:
        return BACKENDS[scheme]
    except KeyError:
        known = ", ".join(f"{name}://" for name in BACKENDS)
        raise SettingsError(
            "database_url", f"unsupported scheme {scheme!r}; use one of {known}"
        ) from None


#: The bound on each step of a migration when none is given.
MIGRATE_TIMEOUT_SECONDS = 3600.0


@attrs.frozen
class StorageOptions:
    """What a backend needs to connect, from the settings.

    ``migrate_timeout_seconds`` bounds each step of a migration, and
    ``progress`` is told of each (backends that can say one), one line each.
    """

    database_url: str
    pool_size: int
    timeout_seconds: float
    migrate_timeout_seconds: float = MIGRATE_TIMEOUT_SECONDS
    progress: Callable[[str], None] | None = None


def _memory_storage(options: StorageOptions) -> AbstractAsyncContextManager[Storage]:
    store = InMemoryStore()
    return nullcontext(
        Storage(
            users=InMemoryUserRepository(store),
            sessions=InMemorySessionRepository(store),
            throttle=InMemoryThrottleStore(),
            events=InMemoryEventLog(store),
        )
    )


async def _no_schema(options: StorageOptions) -> None:
    return None


def _mongo_client(
    options: StorageOptions, *, migrating: bool = False
) -> AsyncMongoClient[dict[str, Any]]:
    try:
        from usercore.adapters.mongo import mongo_client
    except ImportError as exc:
        raise SettingsError(
            "database_url",
            f"its driver is not installed ({exc.name}): pip install usercore[mongo]",
        ) from None
    try:
        return mongo_client(
            options.database_url,
            timeout_seconds=options.timeout_seconds,
            pool_size=options.pool_size,
            operation_timeout_seconds=options.migrate_timeout_seconds if migrating else None,
        )
    except ValueError as exc:
        raise SettingsError("database_url", str(exc)) from None


@asynccontextmanager
async def _mongo_storage(options: StorageOptions) -> AsyncIterator[Storage]:
    client = _mongo_client(options)
    from usercore.adapters.mongo import (
        MongoEventLog,
        MongoSessionRepository,
        MongoStore,
        MongoThrottleStore,
        MongoUserRepository,
        default_database,
    )

    # No I/O until first use: an unreachable server surfaces as
    # StorageUnavailableError on each call, never here at start-up.
    store = MongoStore(default_database(client), timeout_seconds=options.timeout_seconds)
    try:
        yield Storage(
            users=MongoUserRepository(store),
            sessions=MongoSessionRepository(store),
            throttle=MongoThrottleStore(store),
            events=MongoEventLog(store),
        )
    finally:
        await client.close()


async def _mongo_schema(options: StorageOptions) -> None:
    client = _mongo_client(options, migrating=True)
    from usercore.adapters.mongo import default_database, migrate_schema

    try:
        await migrate_schema(default_database(client), progress=options.progress)
    finally:
        await client.close()


def _sql_database(options: StorageOptions) -> SqlAlchemyDatabase:
    from usercore.adapters.sqlalchemy import SqlAlchemyDatabase

    try:
        return SqlAlchemyDatabase.from_url(
            options.database_url,
            pool_size=options.pool_size,
            timeout_seconds=options.timeout_seconds,
        )
    except ValueError as exc:
        raise SettingsError("database_url", str(exc)) from None
    except ImportError as exc:
        raise SettingsError(
            "database_url",
            f"its driver is not installed ({exc.name}): pip install usercore[postgres]",
        ) from None


def check_sqlite_directory(database_url: str, data_dir: Path | None) -> None:
    """Refuse an SQLite file whose directory is missing, unless it is the data directory.

    The data directory is made (mode 0700) on first use; any other missing
    directory is a typo the operator wants to hear about, not to create.

    Raises:
        SettingsError: The directory is missing; names ``database_url``.
    """
    url = urlsplit(database_url)
    if not url.scheme.startswith("sqlite") or url.path in ("", "/", "/:memory:"):
        return
    directory = Path(url.path[1:]).parent
    if directory.exists() or directory == data_dir:
        return
    raise SettingsError("database_url", f"the directory {directory} does not exist")


@asynccontextmanager
async def _sql_storage(options: StorageOptions) -> AsyncIterator[Storage]:
    from usercore.adapters.sqlalchemy import (
        SqlAlchemyEventLog,
        SqlAlchemySessionRepository,
        SqlAlchemyThrottleStore,
        SqlAlchemyUserRepository,
    )

    # No I/O until first use: the schema is checked (or, on SQLite, migrated)
    # by the first operation that reaches the database.
    database = _sql_database(options)
    try:
        yield Storage(
            users=SqlAlchemyUserRepository(database),
            sessions=SqlAlchemySessionRepository(database),
            throttle=SqlAlchemyThrottleStore(database),
            events=SqlAlchemyEventLog(database),
        )
    finally:
        await database.dispose()


async def _sql_schema(options: StorageOptions) -> None:
    from usercore.adapters.sqlalchemy import migrate

    database = _sql_database(options)
    await database.dispose()
    await migrate(database.settings)


_OPENERS: dict[str, Callable[[StorageOptions], AbstractAsyncContextManager[Storage]]] = {
    "memory": _memory_storage,
    "mongo": _mongo_storage,
    "sqlalchemy": _sql_storage,
}
_MIGRATORS: dict[str, Callable[[StorageOptions], Awaitable[None]]] = {
    "memory": _no_schema,
    "mongo": _mongo_schema,
    "sqlalchemy": _sql_schema,
}


async def open_storage(
    database_url: str, pool_size: int, timeout_seconds: float
) -> AsyncIterator[Storage]:
    """Connect the backend that ``database_url`` names, for the container's lifetime.

    Only the chosen backend's driver is imported, so drivers stay optional.
    """
    options = StorageOptions(database_url, pool_size, timeout_seconds)
    async with _OPENERS[backend_for(database_url)](options) as storage:
        yield storage


async def migrate_storage(
    database_url: str,
    pool_size: int,
    timeout_seconds: float,
    *,
    data_dir: Path | None = None,
    migrate_timeout_seconds: float = MIGRATE_TIMEOUT_SECONDS,
    progress: Callable[[str], None] | None = None,
) -> None:
    """Bring the schema (tables, indexes) of the backend at ``database_url`` up to date.

    Idempotent: running it on an up-to-date schema changes nothing. Reaching
    the database is bounded by ``timeout_seconds``; on MongoDB each index
    build by ``migrate_timeout_seconds``, with a line to ``progress`` for each.

    Raises:
        MigrationError: The schema cannot be brought up to date as things are;
            the message says what to do.
        StorageUnavailableError: The database can't be reached.
    """
    check_sqlite_directory(database_url, data_dir)
    options = StorageOptions(
        database_url, pool_size, timeout_seconds, migrate_timeout_seconds, progress
    )
    await _MIGRATORS[backend_for(database_url)](options)
