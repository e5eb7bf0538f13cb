"""SqlAlchemyEventLog: the EventLog port (outbox, tracking, parking) on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import Statement
from usercore.adapters.sqlalchemy.outbox import READING, outbox_steps
from usercore.adapters.sqlalchemy.tables import event_subscribers, parked_events
from usercore.adapters.sqlalchemy.tables import events as outbox
from usercore.domain.events import DomainEvent
from usercore.ports.events import EventLog, Notification, ParkedEvent, Tracking

_EVENT = (
    outbox.c.id,
    outbox.c.type,
    outbox.c.schema_version,
    outbox.c.user_id,
    outbox.c.actor_id,
    outbox.c.occurred_at,
    outbox.c.data,
)
_SUB = event_subscribers.c
_PARKED = parked_events.c
_HELD = sa.and_(_SUB.subscriber == sa.bindparam("sub"), _SUB.lease_owner == sa.bindparam("owner"))

# A literal in the SQL, not a parameter: every value here is either.
_ZERO = sa.literal_column("0", sa.Integer())
_ONE = sa.literal_column("1", sa.Integer())
_FALSE = sa.false()

_READ = Statement(
    sa.select(outbox.c.position, *_EVENT)
    .where(outbox.c.position > sa.bindparam("after"))
    .order_by(outbox.c.position)
    .limit(sa.bindparam("limit", type_=sa.Integer()))
)


def _new_subscriber(insert: Callable[[sa.Table], Any]) -> Statement:
    return Statement(
        insert(event_subscribers)
        .values(subscriber=sa.bindparam("sub"), position=_ZERO, attempts=_ZERO)
        .on_conflict_do_nothing(index_elements=[_SUB.subscriber])
    )


_NEW_SUBSCRIBER = {
    "postgresql": _new_subscriber(postgresql.insert),
    "sqlite": _new_subscriber(sqlite.insert),
}
# Of concurrent callers the database lets one UPDATE match at a time: the
# first takes the lease, the others find it held.
_LEASE = Statement(
    event_subscribers.update()
    .where(
        _SUB.subscriber == sa.bindparam("sub"),
        sa.or_(
            _SUB.lease_owner.is_(None),
            _SUB.lease_owner == sa.bindparam("owner"),
            _SUB.lease_until < sa.bindparam("now"),
        ),
    )
    .values(lease_owner=sa.bindparam("owner"), lease_until=sa.bindparam("until"))
    .returning(_SUB.position, _SUB.attempts, _SUB.retry_at)
)
_RELEASE = Statement(
    event_subscribers.update().where(_HELD).values(lease_owner=sa.null(), lease_until=sa.null())
)
_ADVANCE = Statement(
    event_subscribers.update()
    .where(_HELD)
    .values(position=sa.bindparam("to_position"), attempts=_ZERO, retry_at=sa.null())
)
_POSTPONE = Statement(
    event_subscribers.update()
    .where(_HELD)
    .values(attempts=sa.bindparam("new_attempts"), retry_at=sa.bindparam("new_retry_at"))
)
_PARK = Statement(parked_events.insert(), column_keys=[c.name for c in parked_events.c])
_POSITIONS = Statement(sa.select(_SUB.subscriber, _SUB.position))
_PRUNE = Statement(
    outbox.delete().where(
        outbox.c.position <= sa.bindparam("done"), outbox.c.occurred_at < sa.bindparam("before")
    )
)
_FORGET_PARKED = Statement(
    parked_events.delete().where(
        _PARKED.subscriber == sa.bindparam("sub"),
        _PARKED.event_id == sa.bindparam("eid"),
    )
)
_REPARK = Statement(
    parked_events.update()
    .where(
        _PARKED.subscriber == sa.bindparam("sub"),
        _PARKED.event_id == sa.bindparam("eid"),
    )
    .values(
        attempts=_PARKED.attempts + _ONE, error=sa.bindparam("new_error"), retry_requested=_FALSE
    )
)
#: Larger than any position: "everything" when no subscriber is listed.
_ALL = 2**63 - 1


@functools.cache
def _parked_query(by_subscriber: bool) -> Statement:
    query = sa.select(parked_events).order_by(_PARKED.position, _PARKED.subscriber)
    if by_subscriber:
        query = query.where(_PARKED.subscriber == sa.bindparam("sub"))
    return Statement(query)


@functools.cache
def _retry_query(by_subscriber: bool, by_event: bool) -> Statement:
    conditions = []
    if by_subscriber:
        conditions.append(_PARKED.subscriber == sa.bindparam("sub"))
    if by_event:
        conditions.append(_PARKED.event_id == sa.bindparam("eid"))
    return Statement(parked_events.update().where(*conditions).values(retry_requested=sa.true()))


class SqlAlchemyEventLog(EventLog):
    """The outbox in ``usercore_events``; progress in ``usercore_event_subscribers``.

    Parked events are copied to ``usercore_events_parked`` with the whole
    event, so pruning the outbox never loses one.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._db = database
        self._run = database.executor
        self._codec = database.codec

    async def append(self, events: Sequence[DomainEvent]) -> None:  # noqa: D102 - the port's
        if events:
            steps = outbox_steps(self._db, events)
            await self._run.write_together(steps, unless_first_changed_nothing=False)

    async def read(self, *, after: int, limit: int) -> Sequence[Notification]:  # noqa: D102
        params = {"after": after, "limit": limit}
        if self._db.backend == "postgresql":
            rows = await self._run.fetch_all_after([(READING, {})], _READ, params)
        else:
            rows = await self._run.fetch_all(_READ, params)
        to_domain = self._codec.event_to_domain
        return [Notification(row[0], to_domain(row[1:])) for row in rows]

    async def lease(  # noqa: D102
        self, subscriber: str, *, owner: str, now: datetime, until: datetime
    ) -> Tracking | None:
        await self._run.execute(_NEW_SUBSCRIBER[self._db.backend], {"sub": subscriber})
        time_in = self._codec.time_in
        params = {
            "sub": subscriber,
            "owner": owner,
            "now": time_in(now),
            "until": time_in(until),
        }
        row = await self._run.write_one(_LEASE, params)
        if row is None:
            return None
        position, attempts, retry_at = row
        return Tracking(
            position, attempts, None if retry_at is None else self._codec.time_out(retry_at)
        )

    async def release(self, subscriber: str, *, owner: str) -> None:  # noqa: D102
        await self._run.execute(_RELEASE, {"sub": subscriber, "owner": owner})

    async def advance(self, subscriber: str, *, owner: str, position: int) -> bool:  # noqa: D102
        params = {"sub": subscriber, "owner": owner, "to_position": position}
        return await self._run.execute(_ADVANCE, params) == 1

    async def postpone(  # noqa: D102
        self, subscriber: str, *, owner: str, attempts: int, retry_at: datetime
    ) -> bool:
        params = {
            "sub": subscriber,
            "owner": owner,
            "new_attempts": attempts,
            "new_retry_at": self._codec.time_in(retry_at),
        }
        return await self._run.execute(_POSTPONE, params) == 1

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
        row = self._codec.event_to_row(notification.event)
        row["event_id"] = row.pop("id")
        row.update(
            subscriber=subscriber,
            position=notification.position,
            attempts=attempts,
            error=error,
            parked_at=self._codec.time_in(now),
            retry_requested=False,
        )
        advance = {"sub": subscriber, "owner": owner, "to_position": notification.position}
        steps = [(_ADVANCE, advance), (_PARK, row)]
        return await self._run.write_together(steps, unless_first_changed_nothing=True) == 1

    async def parked(self, subscriber: str | None = None) -> Sequence[ParkedEvent]:  # noqa: D102
        params = {} if subscriber is None else {"sub": subscriber}
        rows = await self._run.fetch_all(_parked_query(subscriber is not None), params)
        return [self._parked(row) for row in rows]

    async def request_retry(  # noqa: D102
        self, subscriber: str | None = None, event_id: str | None = None
    ) -> int:
        params = {"sub": subscriber, "eid": event_id}
        query = _retry_query(subscriber is not None, event_id is not None)
        return await self._run.execute(query, {k: v for k, v in params.items() if v is not None})

    async def settle_parked(  # noqa: D102
        self, subscriber: str, event_id: str, *, delivered: bool, error: str = ""
    ) -> None:
        params = {"sub": subscriber, "eid": event_id}
        if delivered:
            await self._run.execute(_FORGET_PARKED, params)
        else:
            await self._run.execute(_REPARK, {**params, "new_error": error})

    async def prune(self, *, subscribers: Sequence[str], before: datetime) -> int:  # noqa: D102
        rows = await self._run.fetch_all(_POSITIONS, {})
        positions: dict[str, int] = {row[0]: row[1] for row in rows}
        done = min((positions.get(name, 0) for name in subscribers), default=_ALL)
        params = {"done": done, "before": self._codec.time_in(before)}
        return await self._run.execute(_PRUNE, params)

    def _parked(self, row: Any) -> ParkedEvent:
        (subscriber, event_id, position, *event, attempts, error, parked_at, retry) = row
        notification = Notification(position, self._codec.event_to_domain((event_id, *event)))
        return ParkedEvent(
            subscriber=subscriber,
            notification=notification,
            attempts=attempts,
            error=error,
            parked_at=self._codec.time_out(parked_at),
            retry_requested=bool(retry),
        )
