"""The dispatcher: delivers the outbox to subscribers, at least once each and in order.

Each subscriber has a place in the outbox (a position, eventsourcing's
tracking record) and a lease. A process delivers for a subscriber only while
it holds that subscriber's lease, so several processes (server workers,
nodes) deliver each event once in the normal case; when one dies, its leases
run out and another carries on from the last recorded position, so nothing is
lost (the event in flight may be delivered twice: subscribers deduplicate by
event id).

A subscriber's events go out one at a time in outbox order, which is commit
order, hence per-user order. A failure holds that subscriber back (not the
others) and is retried with exponential backoff; after ``max_attempts`` the
event is parked (listed by ``usercore events failed``, retried on request
by ``usercore events retry``) and delivery moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

import attrs

from usercore.domain.errors import UserCoreError
from usercore.ports.clock import Clock
from usercore.ports.events import EventLog, EventSubscriber, Notification, ParkedEvent, Tracking

log = logging.getLogger("usercore.events")


@attrs.frozen
class DeliveryPolicy:
    """How the dispatcher paces itself.

    Attributes:
        max_attempts: Failed attempts at one event before it is parked.
        backoff_seconds: The wait after the first failure; it doubles per failure.
        max_backoff_seconds: The longest wait between attempts.
        lease_seconds: How long a lease lasts unless renewed; a dead process's
            subscribers resume elsewhere after at most this long.
        batch_size: Events read at once per subscriber.
        poll_seconds: The pause between rounds when there was nothing to do.
        retention_seconds: Delivered events are pruned this long after they occurred.
    """

    max_attempts: int = 10
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 600.0
    lease_seconds: float = 30.0
    batch_size: int = 100
    poll_seconds: float = 1.0
    retention_seconds: float = 7 * 24 * 3600.0

    def backoff(self, attempts: int) -> timedelta:
        """The wait after ``attempts`` failures in a row."""
        exponent = min(max(attempts - 1, 0), 32)
        return timedelta(seconds=min(self.backoff_seconds * 2**exponent, self.max_backoff_seconds))


class DeliveryObserver(Protocol):
    """Told about each outcome (the server counts them in its metrics)."""

    def delivered(self, subscriber: str) -> None:
        """One event was delivered."""

    def failed(self, subscriber: str) -> None:
        """One attempt failed."""

    def parked(self, subscriber: str) -> None:
        """One event was parked."""


class _Unobserved:
    def delivered(self, subscriber: str) -> None:
        pass

    def failed(self, subscriber: str) -> None:
        pass

    def parked(self, subscriber: str) -> None:
        pass


def _describe(exc: BaseException) -> str:
    # The subscriber's own words, cut short: parked records are for people.
    text = f"{type(exc).__name__}: {exc}"
    return text[:500]


class Dispatcher:
    """Delivers the outbox to ``subscribers``; run :meth:`run` as a task, or :meth:`run_once`.

    Args:
        log: The outbox.
        subscribers: Who gets the events; their names must be unique and stable.
        clock: For leases, backoff and pruning.
        policy: Attempts, backoff, leases, pacing, retention.
        owner: This process's name on the leases (default: random).
        observer: Told about each delivery, failure and parking (also settable
            afterwards, as :attr:`observer`).
    """

    def __init__(
        self,
        *,
        log: EventLog,
        subscribers: Sequence[EventSubscriber],
        clock: Clock,
        policy: DeliveryPolicy | None = None,
        owner: str | None = None,
        observer: DeliveryObserver | None = None,
    ) -> None:
        names = [subscriber.name for subscriber in subscribers]
        if len(set(names)) != len(names):
            raise ValueError("subscriber names must be unique")
        self._log = log
        self._subscribers = list(subscribers)
        self._clock = clock
        self._policy = policy if policy is not None else DeliveryPolicy()
        self.owner = owner if owner is not None else secrets.token_hex(8)
        self.observer: DeliveryObserver = observer if observer is not None else _Unobserved()

    @property
    def subscribers(self) -> Sequence[str]:
        """The names of the subscribers."""
        return [subscriber.name for subscriber in self._subscribers]

    async def run_once(self) -> int:
        """One round: every subscriber whose lease this process gets catches up as far as it can.

        Returns:
            How many events were delivered (or parked) in this round.

        Raises:
            StorageUnavailableError: The outbox could not be reached.
        """
        done = 0
        for subscriber in self._subscribers:
            done += await self._catch_up(subscriber)
        return done

    async def run(self) -> None:
        """Deliver until cancelled; storage trouble and other failures are logged and retried."""
        try:
            while True:
                try:
                    done = await self.run_once()
                except UserCoreError as exc:
                    log.warning("event delivery paused: %s", exc)
                    done = 0
                except Exception:
                    # E.g. an event of a type this version does not know yet
                    # (a newer server wrote it, mid-upgrade): never skip it, keep
                    # trying, and say so; the task must not die silently.
                    log.exception("event delivery failed; trying again")
                    done = 0
                if not done:
                    await asyncio.sleep(self._policy.poll_seconds)
        finally:
            await self.release()

    async def release(self) -> None:
        """Give up this process's leases, so another process takes over at once."""
        for subscriber in self._subscribers:
            with contextlib.suppress(UserCoreError):
                await self._log.release(subscriber.name, owner=self.owner)

    async def prune(self) -> int:
        """Delete the events every subscriber has processed and that are past retention."""
        before = self._clock.now() - timedelta(seconds=self._policy.retention_seconds)
        return await self._log.prune(subscribers=self.subscribers, before=before)

    async def failed(self, subscriber: str | None = None) -> Sequence[ParkedEvent]:
        """The parked events (of one subscriber, or all)."""
        return await self._log.parked(subscriber)

    async def retry(self, subscriber: str | None = None, event_id: str | None = None) -> int:
        """Ask for another attempt at parked events; the next round makes it."""
        return await self._log.request_retry(subscriber, event_id)

    async def _catch_up(self, subscriber: EventSubscriber) -> int:
        tracking = await self._lease(subscriber.name)
        if tracking is None:
            return 0
        done = await self._retry_parked(subscriber)
        now = self._clock.now()
        if tracking.retry_at is not None and tracking.retry_at > now:
            return done
        batch = await self._log.read(after=tracking.position, limit=self._policy.batch_size)
        attempts = tracking.attempts
        renew_at = now + timedelta(seconds=self._policy.lease_seconds / 2)
        for notification in batch:
            if self._clock.now() >= renew_at:
                if await self._lease(subscriber.name) is None:
                    break
                renew_at = self._clock.now() + timedelta(seconds=self._policy.lease_seconds / 2)
            outcome = await self._attempt(subscriber, notification, attempts)
            if outcome is None:
                break
            done, attempts = done + 1, 0
        return done

    async def _attempt(
        self, subscriber: EventSubscriber, notification: Notification, attempts: int
    ) -> bool | None:
        """Deliver one event: True when delivered, False parked, None to stop for now."""
        name = subscriber.name
        try:
            await subscriber.deliver(notification.event)
        except Exception as exc:  # noqa: BLE001 - any failure of a subscriber is a failed attempt
            attempts += 1
            self.observer.failed(name)
            now = self._clock.now()
            if attempts >= self._policy.max_attempts:
                log.warning(
                    "event parked after %d attempts",
                    attempts,
                    extra={"subscriber": name, "event_id": notification.event.id},
                )
                parked = await self._log.park(
                    name,
                    owner=self.owner,
                    notification=notification,
                    attempts=attempts,
                    error=_describe(exc),
                    now=now,
                )
                if parked:
                    self.observer.parked(name)
                return False if parked else None
            retry_at = now + self._policy.backoff(attempts)
            await self._log.postpone(name, owner=self.owner, attempts=attempts, retry_at=retry_at)
            return None
        self.observer.delivered(name)
        if not await self._log.advance(name, owner=self.owner, position=notification.position):
            return None  # the lease was lost: its new holder carries on
        return True

    async def _retry_parked(self, subscriber: EventSubscriber) -> int:
        done = 0
        for parked in await self._log.parked(subscriber.name):
            if not parked.retry_requested:
                continue
            event = parked.notification.event
            try:
                await subscriber.deliver(event)
            except Exception as exc:  # noqa: BLE001 - as in _attempt
                self.observer.failed(subscriber.name)
                await self._log.settle_parked(
                    subscriber.name, event.id, delivered=False, error=_describe(exc)
                )
            else:
                self.observer.delivered(subscriber.name)
                await self._log.settle_parked(subscriber.name, event.id, delivered=True)
                done += 1
        return done

    async def _lease(self, name: str) -> Tracking | None:
        now = self._clock.now()
        until = now + timedelta(seconds=self._policy.lease_seconds)
        return await self._log.lease(name, owner=self.owner, now=now, until=until)
