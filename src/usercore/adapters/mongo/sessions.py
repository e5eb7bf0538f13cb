"""MongoSessionRepository: the SessionRepository port on MongoDB, one collection of sessions."""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from usercore.adapters.mongo.documents import (
    session_from_document,
    session_to_document,
    user_id_from,
    user_key,
)
from usercore.adapters.mongo.schema import SESSIONS
from usercore.adapters.mongo.store import NOT_SEEN, MongoStore, NotSeen
from usercore.domain.errors import UserNotFoundError
from usercore.domain.ids import UserId
from usercore.domain.sessions import Session
from usercore.domain.timestamps import utc_millis
from usercore.ports.sessions import SessionRepository


class MongoSessionRepository(SessionRepository):
    """Sessions as documents keyed by the session id, indexed by user and expiry.

    A TTL index on ``expires_at`` lets the server purge expired sessions by
    itself (its monitor runs about once a minute), so ``purge`` counts only
    the expired sessions the server has not removed yet.

    Sessions whose user is gone (left behind when a user deletion broke off
    half-way, see ``MongoUserRepository``) are treated as absent by every
    method: each checks that the user exists, one extra indexed read.

    A lost answer to ``add``, ``rotate`` or ``revoke`` is settled by reading
    the session back from the primary, as in ``MongoUserRepository``; above
    all, a rotation that was applied reports True, so the caller does not
    take its own retry for token reuse.
    """

    def __init__(self, store: MongoStore) -> None:
        self._store = store

    async def add(self, session: Session) -> None:  # noqa: D102 - documented by the port
        async def insert() -> None:
            if not await self._store.user_exists(session.user_id):
                raise UserNotFoundError(session.user_id.value)
            try:
                await self._store.sessions.insert_one(session_to_document(session))
            except DuplicateKeyError as exc:
                raise ValueError(f"session {session.id} is already stored") from exc

        async def read_back() -> NotSeen | None:
            return None if await self._stored(session.id) == session else NOT_SEEN

        await self._store.write(insert, read_back)

    async def get(self, session_id: str) -> Session | None:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            found = await self._store.sessions.find_one({"_id": session_id})
            if found is None:
                return None
            session = session_from_document(found)
            if not await self._store.user_exists(session.user_id):
                return None
        return session

    async def rotate(self, current: Session, rotated: Session) -> bool:  # noqa: D102
        document = session_to_document(rotated)
        del document["_id"]

        async def replace() -> bool:
            if not await self._store.user_exists(current.user_id):
                return False
            result = await self._store.sessions.update_one(
                {
                    "_id": current.id,
                    "token_hash": current.token_hash,
                    "generation": current.generation,
                    "revoked_at": None,
                },
                {"$set": document},
            )
            return result.matched_count == 1

        async def read_back() -> bool | NotSeen:
            stored = await self._stored(current.id)
            if stored == rotated:
                return True
            # Still the current generation: neither this rotation nor another.
            # Reporting False would make the caller take its own retry for reuse.
            return NOT_SEEN if stored == current else False

        return await self._store.write(replace, read_back)

    async def revoke(self, session_id: str, *, now: datetime) -> bool:  # noqa: D102
        now = utc_millis(now)

        async def mark() -> bool:
            found = await self._store.sessions.find_one(
                {"_id": session_id, "revoked_at": None}, projection={"user_id": True}
            )
            if found is None or not await self._store.user_exists(user_id_from(found["user_id"])):
                return False
            result = await self._store.sessions.update_one(
                {"_id": session_id, "revoked_at": None}, {"$set": {"revoked_at": now}}
            )
            return result.matched_count == 1

        async def read_back() -> bool | NotSeen:
            stored = await self._stored(session_id)
            if stored is not None and stored.revoked_at is None:
                return NOT_SEEN
            # Revoked at this very millisecond: this call (or its twin) did it.
            return stored is not None and stored.revoked_at == now

        return await self._store.write(mark, read_back)

    async def revoke_all(self, user_id: UserId, *, now: datetime) -> int:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            if not await self._store.user_exists(user_id):
                return 0
            result = await self._store.sessions.update_many(
                {"user_id": user_key(user_id), "revoked_at": None},
                {"$set": {"revoked_at": utc_millis(now)}},
            )
        # Each document is re-checked against the filter as it is written, so
        # this counts exactly the sessions this call revoked.
        return result.modified_count

    async def list_for_user(self, user_id: UserId) -> list[Session]:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            if not await self._store.user_exists(user_id):
                return []
            cursor = self._store.sessions.find({"user_id": user_key(user_id)}).sort(
                [("created_at", ASCENDING), ("_id", ASCENDING)]
            )
            documents = await cursor.to_list(None)
        return [session_from_document(document) for document in documents]

    async def _stored(self, session_id: str) -> Session | None:
        """The session as a majority of the replica set has it (to read back a lost write)."""
        found = await self._store.confirmed(SESSIONS).find_one({"_id": session_id})
        return None if found is None else session_from_document(found)

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            result = await self._store.sessions.delete_many(
                {"$or": [{"expires_at": {"$lte": utc_millis(now)}}, {"revoked_at": {"$ne": None}}]}
            )
        return result.deleted_count
