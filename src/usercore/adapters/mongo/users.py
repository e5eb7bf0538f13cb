"""MongoUserRepository: the UserRepository port on MongoDB, one atomic document write per change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from usercore.adapters.mongo.documents import (
    prefix_range,
    storable,
    user_from_document,
    user_key,
    user_to_document,
)
from usercore.adapters.mongo.errors import is_email_violation
from usercore.adapters.mongo.schema import USERS
from usercore.adapters.mongo.store import NOT_SEEN, MongoStore, NotSeen
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery, user_page
from usercore.domain.user import User
from usercore.ports.users import UserRepository

#: The server's code for a unique index violation.
_DUPLICATE_KEY = 11000


class MongoUserRepository(UserRepository):
    """Users as documents keyed by their UUID, the normalised email under a unique index.

    Every change is one single-document operation, so nothing needs
    multi-document transactions or a replica set: updates are
    compare-and-set on ``_id`` and ``version``, and the unique index decides
    between concurrent registrations of one email.

    Deleting a user takes two operations: the user document first, then
    their sessions. A crash (or a lost connection) between the two leaves the
    sessions behind without their user. Such orphans are inert: every session
    read (``MongoSessionRepository.get``, ``list_for_user``, ``rotate``,
    ``revoke``, ``revoke_all``) first checks that the user exists and treats
    them as absent; the TTL index purges them when they expire, and deleting
    the same user id again removes them at once.

    When the answer to ``add`` or ``update`` is lost (the connection broke or
    the time ran out after the write was sent, or the write concern was not
    met), the user is read back from the primary at majority read concern:
    exactly what was written is success, a conflicting write is
    ``EmailTakenError`` / ``VersionConflictError``, neither is
    ``OutcomeUnknownError``. ``delete`` is not read back: it raises
    ``StorageUnavailableError`` and is safe to call again.
    """

    def __init__(self, store: MongoStore) -> None:
        self._store = store

    async def add(self, user: User) -> None:  # noqa: D102 - documented by the port
        async def insert() -> None:
            try:
                await self._store.users.insert_one(user_to_document(user))
            except DuplicateKeyError as exc:
                if is_email_violation(exc):
                    raise EmailTakenError(user.email.value) from exc
                raise ValueError(f"user {user.id} is already stored") from exc

        async def read_back() -> NotSeen | None:
            if await self._stored(user.id) == user:
                return None
            holder = await self._store.confirmed(USERS).find_one(
                {"email": user.email.value}, projection={"_id": True}
            )
            if holder is not None:
                raise EmailTakenError(user.email.value)
            return NOT_SEEN

        await self._store.write(insert, read_back)

    async def add_many(self, users: Sequence[User]) -> set[UserId]:  # noqa: D102
        if not users:
            return set()
        documents = [user_to_document(user) for user in users]
        with self._store.operation():
            await self._store.ready()
            try:
                # Unordered: every document is tried; each insert is atomic on its own.
                await self._store.users.insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if exc.details.get("writeConcernErrors") or any(
                    error.get("code") != _DUPLICATE_KEY for error in errors
                ):
                    raise
                left_out = {error["index"] for error in errors}
                return {user.id for i, user in enumerate(users) if i not in left_out}
        return {user.id for user in users}

    async def get_many(self, user_ids: Sequence[UserId]) -> list[User]:  # noqa: D102
        if not user_ids:
            return []
        keys = [user_key(user_id) for user_id in user_ids]
        with self._store.operation():
            await self._store.ready()
            documents = await self._store.users.find({"_id": {"$in": keys}}).to_list(None)
        return [user_from_document(document) for document in documents]

    async def get(self, user_id: UserId) -> User | None:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            found = await self._store.users.find_one({"_id": user_key(user_id)})
        return None if found is None else user_from_document(found)

    async def get_by_email(self, email: Email) -> User | None:  # noqa: D102
        if not storable(email.value):
            return None
        with self._store.operation():
            await self._store.ready()
            found = await self._store.users.find_one({"email": email.value})
        return None if found is None else user_from_document(found)

    async def update(self, user: User, *, expected_version: int) -> None:  # noqa: D102
        document = user_to_document(user)
        key = document.pop("_id")

        async def replace() -> None:
            try:
                result = await self._store.users.update_one(
                    {"_id": key, "version": expected_version}, {"$set": document}
                )
            except DuplicateKeyError as exc:
                raise EmailTakenError(user.email.value) from exc
            if result.matched_count:
                return
            if await self._store.user_exists(user.id):
                raise VersionConflictError(user.id.value, expected_version)
            raise UserNotFoundError(user.id.value)

        async def read_back() -> NotSeen | None:
            stored = await self._stored(user.id)
            if stored is None:
                raise UserNotFoundError(user.id.value)
            if stored == user:
                return None
            if stored.version == expected_version:
                return NOT_SEEN  # neither this write nor anyone else's
            raise VersionConflictError(user.id.value, expected_version)

        await self._store.write(replace, read_back)

    async def delete(self, user_id: UserId) -> bool:  # noqa: D102
        key = user_key(user_id)
        with self._store.operation():
            await self._store.ready()
            result = await self._store.users.delete_one({"_id": key})
            # Also when the user was already gone: clears sessions orphaned by
            # an earlier delete that broke off between the two operations.
            await self._store.sessions.delete_many({"user_id": key})
        return result.deleted_count == 1

    async def list(self, query: UserQuery) -> Page[User]:  # noqa: D102
        criteria: dict[str, Any] = {}
        if query.after is not None:
            criteria["_id"] = {"$gt": user_key(query.after)}
        if query.email_prefix:
            bounds = prefix_range(query.email_prefix)
            if bounds is None:
                return Page(items=(), next_cursor=None)
            criteria["email"] = bounds
        if query.role is not None:
            criteria["roles"] = query.role.name
        if query.is_active is not None:
            criteria["is_active"] = query.is_active
        with self._store.operation():
            await self._store.ready()
            cursor = self._store.users.find(criteria).sort("_id", ASCENDING).limit(query.limit + 1)
            documents = await cursor.to_list(None)
        return user_page([user_from_document(document) for document in documents], query.limit)

    async def ping(self) -> None:  # noqa: D102
        with self._store.operation():
            await self._store.database.command("ping")

    async def _stored(self, user_id: UserId) -> User | None:
        """The user as a majority of the replica set has it (to read back a lost write)."""
        found = await self._store.confirmed(USERS).find_one({"_id": user_key(user_id)})
        return None if found is None else user_from_document(found)
