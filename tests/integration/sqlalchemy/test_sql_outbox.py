"""The outbox under racing writers and readers, and two dispatchers on one database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import attrs
import pytest

from tests.integration.sqlalchemy.support import open_database, repositories_on
from usercore.domain.events import DomainEvent
from usercore.services.dispatch import DeliveryPolicy, Dispatcher
from usercore.testing import RecordFactory


@attrs.define
class Counter:
    """Counts deliveries per event id, yielding to the loop so that dispatchers interleave."""

    name: str = "counter"
    deliveries: dict[str, int] = attrs.field(factory=dict)

    async def deliver(self, event: DomainEvent) -> None:
        await asyncio.sleep(0)
        self.deliveries[event.id] = self.deliveries.get(event.id, 0) + 1


async def test_a_reader_racing_writers_never_skips_an_event(sql_url: str) -> None:
    # Writers on their own connections commit while a reader follows by
    # position: an event committed after the reader passed its position
    # would be lost for good. The advisory lock (PostgreSQL) and the single
    # writer (SQLite) make positions visible in order.
    databases = [open_database(sql_url, pool_size=4) for _ in range(3)]
    writers, reader = [repositories_on(db) for db in databases[:2]], repositories_on(databases[2])
    make = RecordFactory()
    users = [make.user() for _ in range(20)]
    seen: list[str] = []
    done = asyncio.Event()

    async def write(index: int) -> None:
        repos = writers[index % 2]
        user = users[index]
        await repos.users.add(user, events=[make.registered(user)])
        for _ in range(3):
            await repos.events.append([make.standalone(user)])

    async def follow() -> None:
        position = 0
        while True:
            finished = done.is_set()
            batch = await reader.events.read(after=position, limit=7)
            seen.extend(n.event.id for n in batch)
            if batch:
                position = batch[-1].position
            elif finished:
                return
            await asyncio.sleep(0)

    try:
        follower = asyncio.create_task(follow())
        await asyncio.gather(*(write(i) for i in range(len(users))))
        done.set()
        await follower
        everything = await reader.events.read(after=0, limit=1000)
        assert len(everything) == 80
        assert seen == [n.event.id for n in everything]
    finally:
        for database in databases:
            await database.dispose()


async def test_two_dispatchers_on_one_database_deliver_each_event_once(sql_url: str) -> None:
    one, two = open_database(sql_url), open_database(sql_url)
    make = RecordFactory()
    counter = Counter()
    policy = DeliveryPolicy(batch_size=5, lease_seconds=30)
    dispatchers = [
        Dispatcher(log=repositories_on(db).events, subscribers=[counter], clock=make.clock,
                   policy=policy, owner=owner)
        for db, owner in ((one, "node-1"), (two, "node-2"))
    ]  # fmt: skip
    try:
        repos = repositories_on(one)
        for _ in range(30):
            user = make.user()
            await repos.users.add(user, events=[make.registered(user)])
        for _ in range(10):
            await asyncio.gather(*(d.run_once() for d in dispatchers))
        assert len(counter.deliveries) == 30
        assert set(counter.deliveries.values()) == {1}
        # One node goes away for good; the other carries on once its lease ends.
        user = make.user()
        await repos.users.add(user, events=[make.registered(user)])
        make.clock.advance(31)
        for _ in range(3):
            await dispatchers[1].run_once()
        assert len(counter.deliveries) == 31
        make.clock.advance(timedelta(days=8).total_seconds())
        assert await dispatchers[1].prune() == 31
    finally:
        await one.dispose()
        await two.dispose()


async def test_a_failing_outbox_insert_undoes_the_users_change(sql_url: str) -> None:
    # A reused event id breaks the outbox's unique index after the user's row
    # was written: the transaction (or the one statement) must undo that row.
    database = open_database(sql_url)
    repos = repositories_on(database)
    make = RecordFactory()
    try:
        user = make.user()
        registered = make.registered(user)
        await repos.users.add(user, events=[registered])
        renamed = attrs.evolve(user, name="renamed", version=2)
        reused = attrs.evolve(make.updated(renamed), id=registered.id)
        for events in ([reused], [make.updated(renamed), reused]):
            with pytest.raises(ValueError, match=r"breaks a storage constraint|already stored"):
                await repos.users.update(renamed, expected_version=1, events=events)
            assert await repos.users.get(user.id) == user
        other = make.user()
        with pytest.raises(ValueError, match=r"breaks a storage constraint|already stored"):
            await repos.users.add(
                other, events=[attrs.evolve(make.registered(other), id=registered.id)]
            )
        assert await repos.users.get(other.id) is None
        assert [n.event for n in await repos.events.read(after=0, limit=10)] == [registered]
    finally:
        await database.dispose()
