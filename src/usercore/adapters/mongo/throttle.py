"""MongoThrottleStore: the ThrottleStore port on MongoDB, one document per key."""

from __future__ import annotations

from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from usercore.adapters.mongo.documents import Document, aware
from usercore.adapters.mongo.errors import BACKEND
from usercore.adapters.mongo.schema import LOGIN_THROTTLE, schema_problems
from usercore.adapters.mongo.store import MongoStore
from usercore.domain.throttle import ThrottleState
from usercore.domain.timestamps import utc_millis
from usercore.ports.errors import SchemaOutOfDateError, StorageUnavailableError
from usercore.ports.throttle import ThrottleStore

#: Each round loses only to another caller's change to the same key (which
#: counted its own failure), so a handful of rounds is plenty.
_ROUNDS = 8


class MongoThrottleStore(ThrottleStore):
    """Failure counts in the ``login_throttle`` collection, keyed by the throttle key.

    Counting is one ``find_one_and_update`` with ``$inc`` (and ``$max`` for
    the times, so they never move backwards) on a live record, upserting
    when there is none. A TTL index on ``expires_at`` lets the server drop
    expired records by itself (its monitor runs about once a minute);
    :meth:`purge` drops the ones it has not reached yet.

    Args:
        store: The database, its deadline and its error translation, shared
            with the repositories.
    """

    def __init__(self, store: MongoStore) -> None:
        self._store = store
        self._records: AsyncCollection[Document] = store.collection(LOGIN_THROTTLE)
        self._schema = store.rechecked(self._check_schema)

    async def get(self, key: str) -> ThrottleState | None:  # noqa: D102 - documented by the port
        with self._store.operation():
            await self._ready()
            found = await self._records.find_one({"_id": key})
        return None if found is None else _state(found)

    async def record_failure(  # noqa: D102
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        now, expires_at = utc_millis(now), utc_millis(expires_at)
        with self._store.operation():
            await self._ready()
            for _ in range(_ROUNDS):
                try:
                    counted = await self._records.find_one_and_update(
                        {"_id": key, "expires_at": {"$gt": now}},
                        {
                            "$inc": {"failures": 1},
                            "$max": {"last_failure_at": now, "expires_at": expires_at},
                        },
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
                    )
                except DuplicateKeyError:
                    # The key has a record the filter did not match: an
                    # expired one, which starts over here (or one another
                    # caller has just created or restarted: count again).
                    counted = await self._records.find_one_and_update(
                        {"_id": key, "expires_at": {"$lte": now}},
                        {"$set": {"failures": 1, "last_failure_at": now, "expires_at": expires_at}},
                        return_document=ReturnDocument.AFTER,
                    )
                if counted is not None:
                    return _state(counted)
        raise StorageUnavailableError(BACKEND, "the throttle record kept changing under this write")

    async def clear(self, key: str) -> None:  # noqa: D102
        with self._store.operation():
            await self._ready()
            await self._records.delete_one({"_id": key})

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        with self._store.operation():
            await self._ready()
            result = await self._records.delete_many({"expires_at": {"$lte": utc_millis(now)}})
        return result.deleted_count

    async def _ready(self) -> None:
        """Refuse to count in a collection that would grow without bound.

        Raises:
            SchemaOutOfDateError: The TTL index on ``expires_at`` is missing,
                still being built or not a TTL index of usercore's.
        """
        await self._schema()

    async def _check_schema(self) -> None:
        problems = await schema_problems(self._store.database, (LOGIN_THROTTLE,))
        if problems:
            raise SchemaOutOfDateError(BACKEND, "; ".join(problems))


def _state(document: Document) -> ThrottleState:
    return ThrottleState(
        failures=document["failures"], last_failure_at=aware(document["last_failure_at"])
    )
