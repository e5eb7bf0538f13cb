"""A writer that dies between its write and the relay loses no event; a gap may still fill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.mongo.support import mongo_database
from usercore.adapters.mongo import (
    MongoEventLog,
    MongoSessionRepository,
    MongoStore,
    MongoUserRepository,
)
from usercore.adapters.mongo import outbox as mongo_outbox
from usercore.adapters.mongo import users as mongo_users
from usercore.adapters.mongo.documents import user_key, user_to_document
from usercore.adapters.mongo.outbox import event_to_document, relay_pending
from usercore.ports.errors import StorageUnavailableError
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_database() as database:
        yield MongoStore(database)


async def test_events_a_dead_writer_left_pending_are_relayed_by_the_next_read(
    store: MongoStore,
) -> None:
    make = RecordFactory()
    user = make.user()
    registered = make.registered(user)
    # What a crash right after insert_one leaves: the user with its pending event.
    document = user_to_document(user)
    document["pending_events"] = [event_to_document(registered)]
    document["pending_since"] = LONG_AGO
    await store.users.insert_one(document)
    log = MongoEventLog(store)
    [notification] = await log.read(after=0, limit=10)
    assert notification.event == registered
    stored = await store.users.find_one({"_id": user_key(user.id)})
    assert stored is not None
    assert stored["pending_events"] == []
    # Relaying again changes nothing: the event is stored once.
    await relay_pending(store, stale_seconds=0)
    assert [n.event for n in await log.read(after=0, limit=10)] == [registered]


async def test_a_deletion_that_broke_off_is_finished_and_announced(store: MongoStore) -> None:
    make = RecordFactory()
    user = make.user()
    users = MongoUserRepository(store)
    await users.add(user)
    await MongoSessionRepository(store).add(make.session(user))
    deleted = make.deleted(user)
    # The tombstone write happened; the process died before the relay.
    await store.users.update_one(
        {"_id": user_key(user.id)},
        {
            "$set": {"deleted": True, "pending_since": LONG_AGO},
            "$push": {"pending_events": event_to_document(deleted)},
        },
    )
    assert await users.get(user.id) is None
    assert await users.get_by_email(user.email) is None
    assert [n.event for n in await MongoEventLog(store).read(after=0, limit=10)] == [deleted]
    assert await store.users.count_documents({}) == 0
    assert await store.sessions.count_documents({}) == 0
    # The email is free again.
    await users.add(make.user(email=user.email.value))


async def test_a_reader_waits_at_a_fresh_gap_and_skips_an_old_one(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = RecordFactory()
    user = make.user()
    log = MongoEventLog(store)
    await log.append([make.standalone(user)])
    # A relay took position 2 and has not inserted it (yet, or ever).
    await store.counters.update_one({"_id": "outbox_position"}, {"$inc": {"value": 1}})
    third = make.standalone(user)
    await log.append([third])
    first = (await log.read(after=0, limit=10))[0]
    assert [n.position for n in await log.read(after=0, limit=10)] == [first.position]
    later = datetime.now(UTC) + timedelta(seconds=mongo_outbox.GAP_SECONDS + 1)
    monkeypatch.setattr(mongo_outbox, "_now", lambda: later)
    assert [n.event for n in await log.read(after=first.position, limit=10)] == [third]


async def test_a_deletion_whose_relay_failed_is_finished_later(
    store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make = RecordFactory()
    user = make.user()
    users = MongoUserRepository(store)
    await users.add(user)

    async def broken(*_: object) -> None:
        raise StorageUnavailableError("mongodb", "connection lost")

    monkeypatch.setattr(mongo_users, "relay_user", broken)
    assert await users.delete(user.id)  # committed: the tombstone is written
    assert await users.get(user.id) is None
    assert await store.users.count_documents({}) == 1
    monkeypatch.undo()
    await relay_pending(store, stale_seconds=0)
    assert await store.users.count_documents({}) == 0
