"""MongoEventLog: the EventLog port on MongoDB: the relayed outbox, progress and parked events.

Each subscriber's progress is one document of ``event_subscribers``: its
position, attempts, lease, and the events it parked (an array), so that
parking an event and moving past it is one single-document write.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from usercore.adapters.mongo.documents import Document, aware
from usercore.adapters.mongo.outbox import (
    event_from_document,
    event_to_document,
    mark_pruned,
    pending,
    read_outbox,
    relay_appended,
    relay_pending,
)
from usercore.adapters.mongo.store import MongoStore
from usercore.domain.events import DomainEvent
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.events import EventLog, Notification, ParkedEvent, Tracking

log = logging.getLogger("usercore.mongo")

#: Compare-and-set rounds when marking parked events, before giving up to a busy writer.
_ROUNDS = 8


class MongoEventLog(EventLog):
    """Events appended on their own go straight to the outbox, each under a new position."""

    def __init__(self, store: MongoStore) -> None:
        self._store = store

    async def append(self, events: Sequence[DomainEvent]) -> None:  # noqa: D102 - the port's
        # Appended events belong to no user write: one document of their own
        # holds them (one atomic insert), relayed like a user's.
        if not events:
            return
        document = {"_id": events[0].id, **pending(events)["$set"]}
        document["pending_events"] = [event_to_document(event) for event in events]
        with self._store.operation():
            await self._store.ready()
            await self._store.appended.insert_one(document)
        try:
            with self._store.operation():
                await relay_appended(self._store, document)
        except StorageUnavailableError as exc:
            log.warning("appended events left pending for the relay: %s", exc)

    async def read(self, *, after: int, limit: int) -> Sequence[Notification]:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            await relay_pending(self._store)
            return await read_outbox(self._store, after=after, limit=limit)

    async def lease(  # noqa: D102
        self, subscriber: str, *, owner: str, now: datetime, until: datetime
    ) -> Tracking | None:
        with self._store.operation():
            await self._store.ready()
            await self._store.subscribers.update_one(
                {"_id": subscriber},
                {"$setOnInsert": {"position": 0, "attempts": 0, "retry_at": None, "parked": []}},
                upsert=True,
            )
            found = await self._store.subscribers.find_one_and_update(
                {
                    "_id": subscriber,
                    "$or": [
                        {"lease_owner": None},
                        {"lease_owner": owner},
                        {"lease_until": {"$lt": now}},
                    ],
                },
                {"$set": {"lease_owner": owner, "lease_until": until}},
                return_document=ReturnDocument.AFTER,
            )
        if found is None:
            return None
        retry_at = found.get("retry_at")
        return Tracking(
            found["position"], found["attempts"], None if retry_at is None else aware(retry_at)
        )

    async def release(self, subscriber: str, *, owner: str) -> None:  # noqa: D102
        await self._held(subscriber, owner, {"$set": {"lease_owner": None, "lease_until": None}})

    async def advance(self, subscriber: str, *, owner: str, position: int) -> bool:  # noqa: D102
        change = {"$set": {"position": position, "attempts": 0, "retry_at": None}}
        return await self._held(subscriber, owner, change)

    async def postpone(  # noqa: D102
        self, subscriber: str, *, owner: str, attempts: int, retry_at: datetime
    ) -> bool:
        change = {"$set": {"attempts": attempts, "retry_at": retry_at}}
        return await self._held(subscriber, owner, change)

    async def park(  # noqa: D102
        self,
        subscriber: str,
        *,
        owner: str,
        notification: Notification,
        attempts: int,
        error: str,
        now: datetime,
    ) -> bool:
        entry = {
            "position": notification.position,
            "event": event_to_document(notification.event),
            "attempts": attempts,
            "error": error,
            "parked_at": now,
            "retry_requested": False,
        }
        change = {
            "$set": {"position": notification.position, "attempts": 0, "retry_at": None},
            "$push": {"parked": entry},
        }
        return await self._held(subscriber, owner, change)

    async def parked(self, subscriber: str | None = None) -> Sequence[ParkedEvent]:  # noqa: D102
        criteria = {} if subscriber is None else {"_id": subscriber}
        found: list[ParkedEvent] = []
        with self._store.operation():
            await self._store.ready()
            async for document in self._store.subscribers.find(criteria):
                found.extend(_parked(document["_id"], entry) for entry in document["parked"])
        return sorted(found, key=lambda p: (p.notification.position, p.subscriber))

    async def request_retry(  # noqa: D102
        self, subscriber: str | None = None, event_id: str | None = None
    ) -> int:
        def mark(entry: Document) -> bool:
            return event_id is None or entry["event"]["id"] == event_id

        return await self._rewrite_parked(
            subscriber, mark, lambda e: {**e, "retry_requested": True}
        )

    async def settle_parked(  # noqa: D102
        self, subscriber: str, event_id: str, *, delivered: bool, error: str = ""
    ) -> None:
        def again(entry: Document) -> Document | None:
            if delivered:
                return None
            return {
                **entry,
                "attempts": entry["attempts"] + 1,
                "error": error,
                "retry_requested": False,
            }

        await self._rewrite_parked(subscriber, lambda e: e["event"]["id"] == event_id, again)

    async def prune(self, *, subscribers: Sequence[str], before: datetime) -> int:  # noqa: D102
        with self._store.operation():
            await self._store.ready()
            positions = {
                document["_id"]: document["position"]
                async for document in self._store.subscribers.find({}, {"position": True})
            }
            done = min((positions.get(name, 0) for name in subscribers), default=None)
            criteria: dict[str, Any] = {"occurred_at": {"$lt": before}}
            if done is not None:
                criteria["_id"] = {"$lte": done}
            newest = await self._store.outbox.find_one(criteria, sort=[("_id", -1)])
            result = await self._store.outbox.delete_many(criteria)
            if newest is not None:
                await mark_pruned(self._store, int(newest["_id"]))
        return int(result.deleted_count)

    async def _held(self, subscriber: str, owner: str, change: Document) -> bool:
        with self._store.operation():
            await self._store.ready()
            result = await self._store.subscribers.update_one(
                {"_id": subscriber, "lease_owner": owner}, change
            )
        return bool(result.matched_count)

    async def _rewrite_parked(self, subscriber: str | None, chosen: Any, rewrite: Any) -> int:
        """Rewrite the chosen parked entries (None drops one), compare-and-set on the array."""
        criteria = {} if subscriber is None else {"_id": subscriber}
        changed = 0
        with self._store.operation():
            await self._store.ready()
            async for first in self._store.subscribers.find(criteria, {"parked": True}):
                document = first
                for _ in range(_ROUNDS):
                    old = document["parked"]
                    new = [rewrite(entry) if chosen(entry) else entry for entry in old]
                    count = sum(1 for entry in old if chosen(entry))
                    if not count:
                        break
                    result = await self._store.subscribers.update_one(
                        {"_id": document["_id"], "parked": old},
                        {"$set": {"parked": [entry for entry in new if entry is not None]}},
                    )
                    if result.matched_count:
                        changed += count
                        break
                    again = await self._store.subscribers.find_one({"_id": document["_id"]})
                    document = again or {"_id": document["_id"], "parked": []}
        return changed


def _parked(subscriber: str, entry: Document) -> ParkedEvent:
    return ParkedEvent(
        subscriber=subscriber,
        notification=Notification(entry["position"], event_from_document(entry["event"])),
        attempts=entry["attempts"],
        error=entry["error"],
        parked_at=aware(entry["parked_at"]),
        retry_requested=entry["retry_requested"],
    )
