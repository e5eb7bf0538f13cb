"""MongoStore: the database the repositories share, its deadline and its schema check."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Final, TypeVar

import pymongo
from pymongo import ReadPreference
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.read_concern import ReadConcern

from usercore.adapters.mongo.documents import Document, user_key
from usercore.adapters.mongo.errors import BACKEND, may_have_applied, translated
from usercore.adapters.mongo.schema import (
    APPENDED,
    COUNTERS,
    DOCUMENTS_VERSION,
    EVENT_SUBSCRIBERS,
    OUTBOX,
    SCHEMA_RECHECK_SECONDS,
    SESSIONS,
    USERS,
    RecheckedCheck,
    documents_version,
    schema_problems,
)
from usercore.domain.ids import UserId
from usercore.ports.errors import OutcomeUnknownError, SchemaOutOfDateError, StorageUnavailableError

T = TypeVar("T")

#: Matches the users that exist: not a tombstone left by a deletion in progress.
LIVE: Document = {"deleted": {"$ne": True}}


class NotSeen(enum.Enum):
    """The type of :data:`NOT_SEEN`."""

    NOT_SEEN = enum.auto()


#: What a read-back returns when the stored state shows neither the write nor
#: a conflicting one.
NOT_SEEN: Final = NotSeen.NOT_SEEN


class MongoStore:
    """The users and sessions collections of one database.

    Receives a ready-built database (from ``AsyncMongoClient``); does no I/O
    until first used, so an unreachable server does not stop an application
    from starting. Its collections read from the primary whatever the
    client's read preference: every call reads what an earlier one wrote.

    Args:
        database: Where the ``users`` and ``sessions`` collections live.
        timeout_seconds: The deadline of one repository call as a whole,
            however many operations it makes (the client's own timeouts bound
            each operation); None for only those.
        schema_recheck_seconds: How long a passed schema check is trusted
            before it is made again.

    Raises:
        ValueError: The database's client does not wait for writes to be
            acknowledged (``w=0``).
    """

    def __init__(
        self,
        database: AsyncDatabase[Document],
        *,
        timeout_seconds: float | None = None,
        schema_recheck_seconds: float = SCHEMA_RECHECK_SECONDS,
    ) -> None:
        self.database = database
        self.timeout_seconds = timeout_seconds
        self.schema_recheck_seconds = schema_recheck_seconds
        self.users = self.collection(USERS)
        self.sessions = self.collection(SESSIONS)
        self.outbox = self.collection(OUTBOX)
        self.counters = self.collection(COUNTERS)
        self.appended = self.collection(APPENDED)
        self.subscribers = self.collection(EVENT_SUBSCRIBERS)
        if not self.users.write_concern.acknowledged:
            raise ValueError("unacknowledged writes (w=0) cannot tell a refused write from done")
        self._schema = self.rechecked(self._check_schema)

    def collection(self, name: str) -> AsyncCollection[Document]:
        """The collection ``name`` of the database, read from the primary."""
        return self.database.get_collection(name, read_preference=ReadPreference.PRIMARY)

    def rechecked(self, check: Callable[[], Awaitable[None]]) -> RecheckedCheck:
        """``check``, trusted for ``schema_recheck_seconds`` once it passed."""
        return RecheckedCheck(check, self.schema_recheck_seconds)

    def confirmed(self, name: str) -> AsyncCollection[Document]:
        """The collection ``name``, read from the primary at majority read concern.

        What it shows was acknowledged by a majority of the replica set and
        survives a failover; read backs of writes whose answer was lost use it.
        """
        return self.database.get_collection(
            name, read_preference=ReadPreference.PRIMARY, read_concern=ReadConcern("majority")
        )

    async def write(
        self,
        attempt: Callable[[], Awaitable[T]],
        read_back: Callable[[], Awaitable[T | NotSeen]],
    ) -> T:
        """Check the schema, then write under :meth:`operation`; if the answer is lost, read back.

        Args:
            attempt: Makes the write (:meth:`ready` has passed) and returns its
                result, raising the port's errors for what the server refused.
            read_back: Called, under a deadline of its own, when ``attempt``
                failed in a way that may have applied it
                (:func:`~usercore.adapters.mongo.errors.may_have_applied`):
                returns the write's result if the stored state is exactly
                what was written, raises the port's error for a conflicting
                write found there instead, or returns :data:`NOT_SEEN`.

        Raises:
            OutcomeUnknownError: ``read_back`` saw neither, or failed too.
        """
        writing = False
        try:
            with self.operation():
                await self.ready()
                writing = True
                return await attempt()
        except StorageUnavailableError as exc:
            if not writing or not may_have_applied(exc.__cause__):
                raise
            lost = exc
        unknown = OutcomeUnknownError(BACKEND, f"{lost.reason}; the write may have been applied")
        try:
            with self.operation():
                outcome = await read_back()
        except StorageUnavailableError:
            raise unknown from lost.__cause__
        if isinstance(outcome, NotSeen):
            raise unknown from lost.__cause__
        return outcome

    @contextmanager
    def operation(self) -> Iterator[None]:
        """Run one repository call: under its deadline, with driver errors translated."""
        deadline = (
            nullcontext() if self.timeout_seconds is None else pymongo.timeout(self.timeout_seconds)
        )
        with translated(), deadline:
            yield

    async def ready(self) -> None:
        """Return once the schema was seen to be usable, at most ``schema_recheck_seconds`` ago.

        Without a finished unique email index, concurrent registrations could
        create two accounts with one email, so the adapter refuses to work at
        all. It also refuses indexes with other options than its own, and a
        default collation on its collections (which would change what equal
        emails are).

        Raises:
            SchemaOutOfDateError: Something above, or the stored documents have
                an older shape than this adapter reads.
        """
        await self._schema()

    async def _check_schema(self) -> None:
        problems = await schema_problems(self.database, (USERS, SESSIONS))
        if problems:
            raise SchemaOutOfDateError(BACKEND, "; ".join(problems))
        if await documents_version(self.database) < DOCUMENTS_VERSION:
            raise SchemaOutOfDateError(BACKEND, "the stored documents have an older shape")

    async def user_exists(self, user_id: UserId) -> bool:
        """Whether a user with this id is stored."""
        found = await self.users.find_one(
            {"_id": user_key(user_id), **LIVE}, projection={"_id": True}
        )
        return found is not None
