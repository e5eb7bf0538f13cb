"""MongoStore: the database both repositories share, checked once for an up-to-date schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import pymongo
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from usercore.adapters.mongo.documents import Document, user_key
from usercore.adapters.mongo.errors import BACKEND, translated
from usercore.adapters.mongo.schema import (
    APPENDED,
    COUNTERS,
    DOCUMENTS_VERSION,
    EVENT_SUBSCRIBERS,
    OUTBOX,
    SESSIONS,
    USERS,
    documents_version,
    has_unique_email_index,
)
from usercore.domain.ids import UserId
from usercore.ports.errors import SchemaOutOfDateError

#: Matches the users that exist: not a tombstone left by a deletion in progress.
LIVE: Document = {"deleted": {"$ne": True}}


class MongoStore:
    """The users and sessions collections of one database.

    Receives a ready-built database (from ``AsyncMongoClient``); does no I/O
    until first used, so an unreachable server does not stop an application
    from starting.

    Args:
        database: Where the ``users`` and ``sessions`` collections live.
        timeout_seconds: The deadline of one repository call as a whole,
            however many operations it makes (the client's own timeouts bound
            each operation); None for only those.
    """

    def __init__(
        self, database: AsyncDatabase[Document], *, timeout_seconds: float | None = None
    ) -> None:
        self.database = database
        self.timeout_seconds = timeout_seconds
        self.users: AsyncCollection[Document] = database.get_collection(USERS)
        self.sessions: AsyncCollection[Document] = database.get_collection(SESSIONS)
        self.outbox: AsyncCollection[Document] = database.get_collection(OUTBOX)
        self.counters: AsyncCollection[Document] = database.get_collection(COUNTERS)
        self.appended: AsyncCollection[Document] = database.get_collection(APPENDED)
        self.subscribers: AsyncCollection[Document] = database.get_collection(EVENT_SUBSCRIBERS)
        self._schema_checked = False

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Run one repository call: under its deadline, with pymongo errors translated."""
        deadline = (
            nullcontext() if self.timeout_seconds is None else pymongo.timeout(self.timeout_seconds)
        )
        with translated(), deadline:
            yield

    async def ready(self) -> None:
        """Return once the schema was seen to be up to date (checked on first call only).

        Without the unique email index, concurrent registrations could create
        two accounts with one email, so the adapter refuses to work at all.

        Raises:
            SchemaOutOfDateError: The unique email index is missing, or the
                stored documents have an older shape than this adapter reads.
        """
        if self._schema_checked:
            return
        if not has_unique_email_index(await self.users.index_information()):
            raise SchemaOutOfDateError(BACKEND, "the users collection has no unique email index")
        if await documents_version(self.database) < DOCUMENTS_VERSION:
            raise SchemaOutOfDateError(BACKEND, "the stored documents have an older shape")
        self._schema_checked = True

    async def user_exists(self, user_id: UserId) -> bool:
        """Whether a user with this id is stored."""
        found = await self.users.find_one(
            {"_id": user_key(user_id), **LIVE}, projection={"_id": True}
        )
        return found is not None
