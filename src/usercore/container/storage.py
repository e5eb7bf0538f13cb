"""Storage backends: which adapter serves a database URL, started and stopped as a resource."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs

from usercore.adapters.memory import (
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryUserRepository,
)
from usercore.config import SettingsError
from usercore.ports.sessions import SessionRepository
from usercore.ports.users import UserRepository

if TYPE_CHECKING:
    # Only for annotations: pymongo is an optional extra, imported when used.
    from pymongo import AsyncMongoClient

#: URL scheme -> backend name.
BACKENDS = {
    "memory": "memory",
    "mongodb": "mongo",
    "mongodb+srv": "mongo",
}


@attrs.frozen
class Storage:
    """The repositories of one backend, sharing its connections."""

    users: UserRepository
    sessions: SessionRepository


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


@attrs.frozen
class StorageOptions:
    """What a backend needs to connect, from the settings."""

    database_url: str
    pool_size: int
    timeout_seconds: float


def _memory_storage(options: StorageOptions) -> AbstractAsyncContextManager[Storage]:
    store = InMemoryStore()
    return nullcontext(
        Storage(users=InMemoryUserRepository(store), sessions=InMemorySessionRepository(store))
    )


async def _no_schema(options: StorageOptions) -> None:
    return None


def _mongo_client(options: StorageOptions) -> AsyncMongoClient[dict[str, Any]]:
    from usercore.adapters.mongo import mongo_client

    try:
        return mongo_client(
            options.database_url,
            timeout_seconds=options.timeout_seconds,
            pool_size=options.pool_size,
        )
    except ValueError as exc:
        raise SettingsError("database_url", str(exc)) from None


@asynccontextmanager
async def _mongo_storage(options: StorageOptions) -> AsyncIterator[Storage]:
    from usercore.adapters.mongo import (
        MongoSessionRepository,
        MongoStore,
        MongoUserRepository,
        default_database,
    )

    client = _mongo_client(options)
    # No I/O until first use: an unreachable server surfaces as
    # StorageUnavailableError on each call, never here at start-up.
    store = MongoStore(default_database(client))
    try:
        yield Storage(users=MongoUserRepository(store), sessions=MongoSessionRepository(store))
    finally:
        await client.close()


async def _mongo_schema(options: StorageOptions) -> None:
    from usercore.adapters.mongo import create_indexes, default_database

    client = _mongo_client(options)
    try:
        await create_indexes(default_database(client))
    finally:
        await client.close()


_OPENERS: dict[str, Callable[[StorageOptions], AbstractAsyncContextManager[Storage]]] = {
    "memory": _memory_storage,
    "mongo": _mongo_storage,
}
_MIGRATORS: dict[str, Callable[[StorageOptions], Awaitable[None]]] = {
    "memory": _no_schema,
    "mongo": _mongo_schema,
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


async def migrate_storage(database_url: str, pool_size: int, timeout_seconds: float) -> None:
    """Bring the schema (tables, indexes) of the backend at ``database_url`` up to date.

    Idempotent: running it on an up-to-date schema changes nothing.
    """
    options = StorageOptions(database_url, pool_size, timeout_seconds)
    await _MIGRATORS[backend_for(database_url)](options)
