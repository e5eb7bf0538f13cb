"""The outbox on MongoDB without multi-document transactions: pending events, then the relay.

A change and its events are one single-document write: the events go into
the user document's ``pending_events`` array in the same ``insert_one`` /
``update_one`` as the change (a deletion first turns the document into a
tombstone holding its events). Committed together or not at all.

The relay then moves each pending event to the ``outbox`` collection, in the
array's order, under the next position from a counter, and pulls it from the
user document. Every step is idempotent: the outbox has a unique index on
the event id, so an event relayed twice (two relays racing, or a relay that
died before its pull) is stored once. The writing call relays its own events
at once; anything left behind by a crash is relayed by the next ``read`` of
the event log (the dispatcher's), so an event whose change committed is never
lost.

Positions are handed out before the insert that uses them, so two relays can
make a later position visible first. ``read`` therefore stops at a gap in the
positions until the event after it is ``GAP_SECONDS`` old: an insert in
flight lands within that time, and a position whose relay died is skipped.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from usercore.adapters.mongo.documents import Document, aware
from usercore.adapters.mongo.store import MongoStore
from usercore.domain.events import EVENT_TYPES, DomainEvent, event_facts
from usercore.domain.ids import UserId
from usercore.ports.events import Notification

#: How long a gap in positions may be an insert still in flight.
GAP_SECONDS = 10.0
#: Pending this long, an event's writer is taken to have died before relaying it.
_STALE_SECONDS = 2.0
#: The counter document that hands out positions.
_COUNTER = "outbox_position"
#: The counter document holding the highest position a prune may have deleted.
_PRUNED = "outbox_pruned"


def _now() -> datetime:
    # The relay's own clock, for recording and gap timing: wall time, not the
    # domain's (a relay only needs to compare with other relays' writes).
    return datetime.now(UTC)


def event_to_document(event: DomainEvent) -> Document:
    """The stored form of ``event`` (in ``pending_events`` and in the outbox)."""
    return {
        "id": event.id,
        "type": event.type,
        "schema_version": event.schema_version,
        "user_id": event.user_id.value,
        "actor_id": None if event.actor_id is None else event.actor_id.value,
        "occurred_at": event.occurred_at,
        "data": {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in event_facts(event).items()
        },
    }


def pending(events: Sequence[DomainEvent]) -> Document:
    """The update that queues ``events`` on a user document, with the time they were queued."""
    return {
        "$push": {"pending_events": {"$each": [event_to_document(e) for e in events]}},
        "$set": {"pending_since": _now()},
    }


def event_from_document(document: Document) -> DomainEvent:
    """The event stored in ``document``."""
    actor_id = document["actor_id"]
    return EVENT_TYPES[document["type"]](
        id=document["id"],
        user_id=UserId(document["user_id"]),
        actor_id=None if actor_id is None else UserId(actor_id),
        occurred_at=aware(document["occurred_at"]),
        **document["data"],
    )


async def relay_user(store: MongoStore, document: Document) -> None:
    """Move one user document's pending events to the outbox, in order; finish a tombstone."""
    await _relay(store, document)
    key = document["_id"]
    if document.get("deleted"):
        await store.users.delete_one({"_id": key, "deleted": True})
        await store.sessions.delete_many({"user_id": key})


async def relay_appended(store: MongoStore, document: Document) -> None:
    """Move the events of one ``append`` (an ``appended`` document) to the outbox; drop it."""
    await _relay(store, document, from_user=False)
    await store.appended.delete_one({"_id": document["_id"]})


async def _relay(store: MongoStore, document: Document, *, from_user: bool = True) -> None:
    pending: Sequence[Document] = document.get("pending_events") or ()
    for event in pending:
        if await store.outbox.find_one({"id": event["id"]}, {"_id": True}) is not None:
            continue  # relayed already: spend no position on it
        position = await _next_position(store)
        stored = {**event, "_id": position, "recorded_at": _now()}
        # A duplicate was relayed already (by a racing relay, or one that died
        # before its pull).
        with contextlib.suppress(DuplicateKeyError):
            await store.outbox.insert_one(stored)
    if pending and from_user:
        ids = [event["id"] for event in pending]
        await store.users.update_one(
            {"_id": document["_id"]}, {"$pull": {"pending_events": {"id": {"$in": ids}}}}
        )


async def relay_pending(
    store: MongoStore, *, limit: int = 100, stale_seconds: float = _STALE_SECONDS
) -> None:
    """Relay what crashed writers left behind: pending events and unfinished tombstones.

    Only events pending for a while: the writer relays its own at once, and
    racing it would only spend positions.
    """
    stale = _now() - timedelta(seconds=stale_seconds)
    criteria = {
        "$or": [
            {"pending_events.0": {"$exists": True}, "pending_since": {"$lte": stale}},
            {"deleted": True, "pending_since": {"$lte": stale}},
        ]
    }
    async for document in store.users.find(criteria).limit(limit):
        await relay_user(store, document)
    async for document in store.appended.find({"pending_since": {"$lte": stale}}).limit(limit):
        await relay_appended(store, document)


async def read_outbox(store: MongoStore, *, after: int, limit: int) -> list[Notification]:
    """Up to ``limit`` events after ``after``, stopping at a gap that may still fill."""
    cursor = store.outbox.find({"_id": {"$gt": after}}).sort("_id", 1).limit(limit)
    found: list[Notification] = []
    # Positions up to the prune mark may be missing for good: no gap to wait for.
    mark = await store.counters.find_one({"_id": _PRUNED})
    expected = max(after, 0 if mark is None else int(mark["value"])) + 1
    settled = _now() - timedelta(seconds=GAP_SECONDS)
    async for document in cursor:
        position = int(document["_id"])
        if position != expected and aware(document["recorded_at"]) > settled:
            break
        found.append(Notification(position, event_from_document(document)))
        expected = position + 1
    return found


async def mark_pruned(store: MongoStore, position: int) -> None:
    """Record that positions up to ``position`` may have been pruned."""
    await store.counters.update_one({"_id": _PRUNED}, {"$max": {"value": position}}, upsert=True)


async def _next_position(store: MongoStore) -> int:
    counter = await store.counters.find_one_and_update(
        {"_id": _COUNTER},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    if counter is None:  # pragma: no cover - an upsert returning the new document
        raise RuntimeError("the position counter returned no document")
    return int(counter["value"])
