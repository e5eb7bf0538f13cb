"""MongoUserRepository: the UserRepository port on MongoDB, one atomic document write per change."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import BulkWriteError, DuplicateKeyError

from usercore.adapters.mongo.documents import (
    prefix_range,
    storable,
    user_from_document,
    user_key,
    user_to_document,
)
from usercore.adapters.mongo.errors import is_email_violation
from usercore.adapters.mongo.outbox import event_to_document, pending, relay_user
from usercore.adapters.mongo.schema import USERS
from usercore.adapters.mongo.store import LIVE, NOT_SEEN, MongoStore, NotSeen
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery, user_page
from usercore.domain.user import User
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.users import UserRepository

log = logging.getLogger("usercore.mongo")
#: The server's code for a unique index violation.
_DUPLICATE_KEY = 11000


class MongoUserRepository(UserRepository):
    """Users as documents keyed by their UUID, the normalised email under a unique index.

    Every change is one single-document operation, so nothing needs
    multi-document transactions or a replica set: updates are
    compare-and-set on ``_id`` and ``version``, and the unique index decides
    between concurrent registrations of one email.

    A change's events go into the user document in the same write (see
    ``outbox.py``) and are relayed to the outbox right after.

    Deleting a user first turns the document into a tombstone holding the
    deletion's events (one atomic write: from then on the user is absent to
    every read), then relays them, deletes the document and the sessions. A
    crash (or a lost connection) in between leaves the tombstone, which the
    event log's relay finishes; until then the email stays taken. Sessions
    left behind are inert: every session read (``MongoSessionRepository.get``,
    ``list_for_user``, ``rotate``, ``revoke``, ``revoke_all``) first checks
    that the user exists and treats them as absent; the TTL index purges them
    when they expire, and deleting the same user id again removes them at once.

    When the answer to ``add`` or ``update`` is lost (the connection broke or
    the time ran out after the write was sent, or the write concern was not
    met), the user is read back from the primary at majority read concern:
    exactly what was written is success (its events then travel as written),
    a conflicting write is ``EmailTakenError`` / ``VersionConflictError``,
    neither is ``OutcomeUnknownError``. ``delete`` is not read back: it
    raises ``StorageUnavailableError`` and is safe to call again.
    """

    def __init__(self, store: MongoStore) -> None:
        self._store = store

    async def add(  # noqa: D102 - documented by the port
        self, user: User, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        document = user_to_document(user)
        if events:
            document["pending_events"] = [event_to_document(event) for event in events]
            document["pending_since"] = pending(events)["$set"]["pending_since"]

        async def insert() -> None:
            try:
                await self._store.users.insert_one(document)
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
        await self._relay(document["_id"], events)

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
            found = self._store.users.find({"_id": {"$in": keys}, **LIVE})
            documents = await found.to_list(None)
        return [user_from_document(document) for document in documents]

    async def get(self, user_id: UserId) -> User | None:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            found = await self._store.users.find_one({"_id": user_key(user_id), **LIVE})
        return None if found is None else user_from_document(found)

    async def get_by_email(self, email: Email) -> User | None:  # noqa: D102
        if not storable(email.value):
            return None
        with self._store.operation():
            await self._store.ready()
            found = await self._store.users.find_one({"email": email.value, **LIVE})
        return None if found is None else user_from_document(found)

    async def update(  # noqa: D102
        self, user: User, *, expected_version: int, events: Sequence[DomainEvent] = ()
    ) -> None:
        document = user_to_document(user)
        key = document.pop("_id")
        change: dict[str, Any] = {"$set": document}
        if events:
            queued = pending(events)
            change = {"$set": {**document, **queued["$set"]}, "$push": queued["$push"]}

        async def replace() -> None:
            try:
                result = await self._store.users.update_one(
                    {"_id": key, "version": expected_version, **LIVE}, change
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
        await self._relay(key, events)

    async def delete(  # noqa: D102
        self, user_id: UserId, *, events: Sequence[DomainEvent] = ()
    ) -> bool:
        key = user_key(user_id)
        with self._store.operation():
            await self._store.ready()
            # Always stamped, so the relay finds the tombstone if this call dies.
            tombstone = pending(events)
            tombstone["$set"]["deleted"] = True
            found = await self._store.users.find_one_and_update(
                {"_id": key, **LIVE}, tombstone, return_document=ReturnDocument.AFTER
            )
            if found is None:
                # Already gone: finish an earlier delete that broke off half-way
                # (its tombstone and orphaned sessions), if there was one.
                leftover = await self._store.users.find_one({"_id": key, "deleted": True})
                await relay_user(self._store, leftover or {"_id": key, "deleted": True})
                return False
        await self._finish(found)
        return True

    async def list(self, query: UserQuery) -> Page[User]:  # noqa: D102
        criteria: dict[str, Any] = dict(LIVE)
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

    async def _relay(self, key: Any, events: Sequence[DomainEvent]) -> None:
        """Relay a committed change's events now, after any an earlier writer left pending."""
        if events:
            await self._finish({"_id": key}, reread=True)

    async def _finish(self, document: dict[str, Any], *, reread: bool = False) -> None:
        """Relay what a committed write queued; on failure the event log's relay does it later."""
        try:
            with self._store.operation():
                if reread:
                    found = await self._store.users.find_one(
                        {"_id": document["_id"]}, {"pending_events": True, "deleted": True}
                    )
                    if found is None:
                        return
                    document = found
                await relay_user(self._store, document)
        except StorageUnavailableError as exc:
            # The change is committed: reporting a failure would be wrong.
            log.warning("events left pending for the relay: %s", exc)

    async def ping(self) -> None:  # noqa: D102
        with self._store.operation():
            await self._store.database.command("ping")

    async def _stored(self, user_id: UserId) -> User | None:
        """The user as a majority of the replica set has it (to read back a lost write)."""
        found = await self._store.confirmed(USERS).find_one({"_id": user_key(user_id), **LIVE})
        return None if found is None else user_from_document(found)
