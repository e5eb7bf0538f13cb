"""Where the mongo tests get a database: a real server when configured, else mongomock-motor."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, cast

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from usercore.adapters.mongo import (
    MongoEventLog,
    MongoSessionRepository,
    MongoStore,
    MongoThrottleStore,
    MongoUserRepository,
    migrate_schema,
    mongo_client,
)
from usercore.ports.throttle import ThrottleStore
from usercore.testing import Repositories

#: Set to a MongoDB URL to run every mongo test against that server instead of the fake.
MONGO_URL = os.environ.get("USERCORE_TEST_MONGO_URL")

real_server_only = pytest.mark.skipif(
    MONGO_URL is None,
    reason="needs a real MongoDB server (USERCORE_TEST_MONGO_URL); mongomock-motor differs here",
)


class MongomockCommands:
    """mongomock-motor's database, answering the inspection commands a real server answers.

    mongomock implements ``ping`` only; the adapter also sends
    ``listIndexes`` (with build state), ``listCollections`` (for the
    default collation) and, from ``usercore migrate``, ``aggregate``. This
    answers them from mongomock's own state, with
    the reply shapes MongoDB documents: every index finished, no collection
    with options. Everything else is mongomock-motor's.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(command, Mapping) and "listIndexes" in command:
            collection = self._inner.get_collection(command["listIndexes"])
            indexes = await collection.list_indexes().to_list(None)
            return _cursor_reply([dict(index) for index in indexes])
        if isinstance(command, Mapping) and "aggregate" in command:
            collection = self._inner.get_collection(command["aggregate"])
            found = await collection.aggregate(command["pipeline"]).to_list(None)
            return _cursor_reply(found)
        if isinstance(command, Mapping) and "listCollections" in command:
            names = await self._inner.list_collection_names()
            wanted = command.get("filter", {}).get("name", {}).get("$in", names)
            infos = [{"name": n, "type": "collection", "options": {}} for n in names if n in wanted]
            return _cursor_reply(infos)
        return await self._inner.command(command, *args, **kwargs)


def _cursor_reply(batch: list[dict[str, Any]]) -> dict[str, Any]:
    return {"cursor": {"id": 0, "firstBatch": batch}, "ok": 1.0}


@asynccontextmanager
async def mongo_database(*, indexed: bool = True) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    """A fresh, empty database, dropped afterwards; with the adapter's indexes when ``indexed``."""
    if MONGO_URL is None:
        from mongomock_motor import AsyncMongoMockClient

        fake: Any = AsyncMongoMockClient()
        # mongomock-motor mimics the async API without subclassing pymongo's types.
        database = cast(
            "AsyncDatabase[dict[str, Any]]", MongomockCommands(fake.get_database("usercore"))
        )
        if indexed:
            await migrate_schema(database)
        yield database
        return
    client = mongo_client(MONGO_URL, timeout_seconds=5.0)
    database = client.get_database(f"usercore_test_{uuid.uuid4().hex}")
    try:
        if indexed:
            await migrate_schema(database)
        yield database
    finally:
        await client.drop_database(database.name)
        await client.close()


@asynccontextmanager
async def mongo_repositories() -> AsyncIterator[Repositories]:
    """Both mongo repositories over one fresh, migrated database."""
    async with mongo_database() as database:
        store = MongoStore(database)
        yield Repositories(
            users=MongoUserRepository(store),
            sessions=MongoSessionRepository(store),
            events=MongoEventLog(store),
        )


@asynccontextmanager
async def mongo_throttle_store() -> AsyncIterator[ThrottleStore]:
    """The mongo throttle store over one fresh, migrated database."""
    async with mongo_database() as database:
        yield MongoThrottleStore(MongoStore(database))
