"""InMemoryEventLog: the EventLog port (outbox, tracking, parking) in process memory."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime

import attrs

from usercore.adapters.memory.store import InMemoryStore, Lease
from usercore.domain.events import DomainEvent
from usercore.ports.events import EventLog, Notification, ParkedEvent, Tracking


class InMemoryEventLog(EventLog):
    """The outbox of an :class:`InMemoryStore`; every method runs under its lock."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def append(self, events: Sequence[DomainEvent]) -> None:  # noqa: D102 - the port's
        with self._store.lock:
            self._store.append_events(events)

    async def read(self, *, after: int, limit: int) -> Sequence[Notification]:  # noqa: D102
        store = self._store
        with store.lock:
            start = bisect.bisect_right(store.events, after, key=lambda n: n.position)
            return store.events[start : start + limit]

    async def lease(  # noqa: D102
        self, subscriber: str, *, owner: str, now: datetime, until: datetime
    ) -> Tracking | None:
        with self._store.lock:
            lease = self._store.leases.setdefault(subscriber, Lease(Tracking(0)))
            if lease.owner not in (None, owner) and lease.until is not None and lease.until > now:
                return None
            lease.owner, lease.until = owner, until
            return lease.tracking

    async def release(self, subscriber: str, *, owner: str) -> None:  # noqa: D102
        with self._store.lock:
            lease = self._store.leases.get(subscriber)
            if lease is not None and lease.owner == owner:
                lease.owner = lease.until = None

    async def advance(self, subscriber: str, *, owner: str, position: int) -> bool:  # noqa: D102
        with self._store.lock:
            lease = self._held(subscriber, owner)
            if lease is None:
                return False
            lease.tracking = Tracking(position)
            return True

    async def postpone(  # noqa: D102
        self, subscriber: str, *, owner: str, attempts: int, retry_at: datetime
    ) -> bool:
        with self._store.lock:
            lease = self._held(subscriber, owner)
            if lease is None:
                return False
            lease.tracking = attrs.evolve(lease.tracking, attempts=attempts, retry_at=retry_at)
            return True

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
        with self._store.lock:
            lease = self._held(subscriber, owner)
            if lease is None:
                return False
            key = (subscriber, notification.event.id)
            self._store.parked[key] = ParkedEvent(subscriber, notification, attempts, error, now)
            lease.tracking = Tracking(notification.position)
            return True

    async def parked(self, subscriber: str | None = None) -> Sequence[ParkedEvent]:  # noqa: D102
        with self._store.lock:
            found = [
                parked
                for parked in self._store.parked.values()
                if subscriber is None or parked.subscriber == subscriber
            ]
        return sorted(found, key=lambda p: (p.notification.position, p.subscriber))

    async def request_retry(  # noqa: D102
        self, subscriber: str | None = None, event_id: str | None = None
    ) -> int:
        with self._store.lock:
            parked = self._store.parked
            keys = [
                key
                for key in parked
                if (subscriber is None or key[0] == subscriber)
                and (event_id is None or key[1] == event_id)
            ]
            for key in keys:
                parked[key] = attrs.evolve(parked[key], retry_requested=True)
            return len(keys)

    async def settle_parked(  # noqa: D102
        self, subscriber: str, event_id: str, *, delivered: bool, error: str = ""
    ) -> None:
        with self._store.lock:
            parked = self._store.parked
            found = parked.get((subscriber, event_id))
            if found is None:
                return
            if delivered:
                del parked[(subscriber, event_id)]
            else:
                parked[(subscriber, event_id)] = attrs.evolve(
                    found, attempts=found.attempts + 1, error=error, retry_requested=False
                )

    async def prune(self, *, subscribers: Sequence[str], before: datetime) -> int:  # noqa: D102
        store = self._store
        with store.lock:
            # With no subscriber, nobody will ever read the events: all are done.
            done = min(
                (
                    store.leases[s].tracking.position if s in store.leases else 0
                    for s in subscribers
                ),
                default=store.last_position,
            )
            keep = [n for n in store.events if n.position > done or n.event.occurred_at >= before]
            pruned = len(store.events) - len(keep)
            store.events[:] = keep
            return pruned

    def _held(self, subscriber: str, owner: str) -> Lease | None:
        lease = self._store.leases.get(subscriber)
        return lease if lease is not None and lease.owner == owner else None
