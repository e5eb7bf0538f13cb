"""The EventLog port: the outbox the dispatcher reads, with per-subscriber tracking and parking.

Events written with a user change go through ``UserRepository.add/update/delete``
(their ``events`` argument), in the same transaction as the change. Events that
go with no user write (logins, session ends) are appended here on their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from usercore.domain.events import DomainEvent


@attrs.frozen
class Notification:
    """An event as the outbox holds it.

    Attributes:
        position: Its place in the outbox: positions grow in commit order,
            so reading after a position never misses an event committed later.
        event: The event.
    """

    position: int
    event: DomainEvent


@attrs.frozen
class Tracking:
    """Where one subscriber is in the outbox.

    Attributes:
        position: The last position it has processed (delivered or parked); 0 at first.
        attempts: Failed attempts at the event after ``position`` so far.
        retry_at: When the next attempt is due (None: at once).
    """

    position: int
    attempts: int = 0
    retry_at: datetime | None = None


@attrs.frozen
class ParkedEvent:
    """An event a subscriber gave up on after too many failed attempts.

    Attributes:
        subscriber: Whose delivery failed.
        notification: The event and its position.
        attempts: How many attempts failed.
        error: The last failure, as text (no secrets: the subscriber's own words).
        parked_at: When it was given up on.
        retry_requested: An operator asked for another attempt (``usercore events retry``).
    """

    subscriber: str
    notification: Notification
    attempts: int
    error: str
    parked_at: datetime
    retry_requested: bool = False


class EventLog(Protocol):
    """The outbox: appends, reads in order, and each subscriber's progress through it.

    A subscriber's progress is changed only by the holder of its lease (see
    :meth:`lease`): every method taking ``owner`` does nothing and returns
    False when ``owner`` no longer holds it. Every method may raise
    ``StorageUnavailableError``.
    """

    async def append(self, events: Sequence[DomainEvent]) -> None:
        """Write events that go with no user change, atomically and in the given order."""
        ...

    async def read(self, *, after: int, limit: int) -> Sequence[Notification]:
        """Up to ``limit`` notifications with a position above ``after``, in position order."""
        ...

    async def lease(
        self, subscriber: str, *, owner: str, now: datetime, until: datetime
    ) -> Tracking | None:
        """Take or extend the lease on ``subscriber``'s delivery until ``until``.

        Granted when nobody holds the lease, it ran out before ``now``, or
        ``owner`` holds it already; of concurrent callers at most one gets it.
        A subscriber seen for the first time starts at position 0.

        Returns:
            The subscriber's tracking if ``owner`` now holds the lease, else None.
        """
        ...

    async def release(self, subscriber: str, *, owner: str) -> None:
        """Give up the lease, if ``owner`` holds it, so another process may take over at once."""
        ...

    async def advance(self, subscriber: str, *, owner: str, position: int) -> bool:
        """Record that the subscriber processed every event up to ``position``; attempts reset."""
        ...

    async def postpone(
        self, subscriber: str, *, owner: str, attempts: int, retry_at: datetime
    ) -> bool:
        """Record a failed attempt at the next event: try again at ``retry_at``."""
        ...

    async def park(
        self,
        subscriber: str,
        *,
        owner: str,
        notification: Notification,
        attempts: int,
        error: str,
        now: datetime,
    ) -> bool:
        """Give up on ``notification`` for the subscriber and move past it, in one atomic write."""
        ...

    async def parked(self, subscriber: str | None = None) -> Sequence[ParkedEvent]:
        """The parked events (of one subscriber, or all), oldest position first."""
        ...

    async def request_retry(
        self, subscriber: str | None = None, event_id: str | None = None
    ) -> int:
        """Mark parked events (all, one subscriber's, or one event) for another attempt.

        Returns:
            How many were marked.
        """
        ...

    async def settle_parked(
        self, subscriber: str, event_id: str, *, delivered: bool, error: str = ""
    ) -> None:
        """After a requested retry: forget the parked event if delivered, else park it again."""
        ...

    async def prune(self, *, subscribers: Sequence[str], before: datetime) -> int:
        """Delete events every listed subscriber has processed and that occurred before ``before``.

        Returns:
            How many were deleted.
        """
        ...


class EventSubscriber(Protocol):
    """Receives events from the dispatcher: at least once each, in order per user.

    Attributes:
        name: Stable across restarts: the dispatcher keeps the subscriber's
            place in the outbox under it.
    """

    name: str

    async def deliver(self, event: DomainEvent) -> None:
        """Handle one event; return when it is done, raise when it is not.

        A subscriber may see an event again (after a crash or a lost lease):
        it recognises a redelivery by ``event.id``.

        Raises:
            Exception: Any exception is a failed attempt: retried with backoff,
                then parked.
        """
        ...
