"""The outbox delivery state machine: random changes, failures and restarts; nothing lost.

Changes are made through the user repository with their events (some of
them refused: a stale version, a taken email), plus events appended on their
own. A subscriber fails at random; dispatcher processes die without
releasing their leases and new ones take over; time passes. After every
step, every event received was committed, and each user's events arrived in
commit order; at the end, with the subscriber healthy again, every committed
event has arrived. Subclass once per backend, like :class:`UserLifecycleMachine`::

    class MyBackendDelivery(OutboxDeliveryMachine):
        def open_repositories(self):
            return my_backend_repositories()

    TestMyBackendDelivery = MyBackendDelivery.TestCase
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from usercore.domain.errors import EmailTakenError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.user import User
from usercore.services.dispatch import DeliveryPolicy, Dispatcher
from usercore.testing.contract.base import RecordFactory, Repositories

#: Leases short enough that a "dead" process's run out within a step or two.
POLICY = DeliveryPolicy(
    max_attempts=1_000_000, backoff_seconds=1, max_backoff_seconds=4, lease_seconds=10
)


@attrs.define
class FlakySubscriber:
    """Fails each attempt while ``failures`` says so; remembers what it received."""

    name: str = "flaky"
    failures: list[bool] = attrs.field(factory=list)
    received: list[DomainEvent] = attrs.field(factory=list)

    async def deliver(self, event: DomainEvent) -> None:
        """Fail if the next planned outcome is a failure, else receive ``event``."""
        if self.failures and self.failures.pop(0):
            raise RuntimeError("planned failure")
        self.received.append(event)


class OutboxDeliveryMachine(RuleBasedStateMachine):
    """Commits and refuses changes, delivers with failures and restarts, checks what arrived."""

    def __init__(self) -> None:
        super().__init__()
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()
        self.repositories: Repositories = self.run(
            self._stack.enter_async_context(self.open_repositories())
        )
        self.make = RecordFactory()
        self.clock = self.make.clock
        self.subscriber = FlakySubscriber()
        self.generation = 0
        self.dispatcher = self._new_dispatcher()
        self.users: dict[UserId, User] = {}
        self.committed: list[DomainEvent] = []

    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        """An async context manager yielding repositories over empty storage."""
        raise NotImplementedError

    def run(self, awaitable: Any) -> Any:
        """Run a coroutine on this machine's event loop."""
        return self._runner.run(awaitable)

    def teardown(self) -> None:
        """Heal the subscriber, deliver everything, check it all arrived; close."""
        try:
            self.subscriber.failures.clear()
            self.clock.advance(POLICY.lease_seconds + POLICY.max_backoff_seconds + 1)
            for _ in range(1000):
                if not self.run(self.dispatcher.run_once()):
                    break
            received = {event.id for event in self.subscriber.received}
            missing = [event for event in self.committed if event.id not in received]
            assert not missing, f"committed but never delivered: {missing}"
            self.run(self._stack.aclose())
        finally:
            self._runner.close()

    def _new_dispatcher(self) -> Dispatcher:
        self.generation += 1
        return Dispatcher(
            log=self.repositories.events,
            subscribers=[self.subscriber],
            clock=self.clock,
            policy=POLICY,
            owner=f"process-{self.generation}",
        )

    # --- rules ---------------------------------------------------------------

    @rule(email=st.sampled_from(["ada", "grace", "edsger", "barbara"]))
    def register(self, email: str) -> None:
        """Add a user with its event; a taken email adds neither."""
        user = self.make.user(email=f"{email}@example.com")
        event = self.make.registered(user)
        try:
            self.run(self.repositories.users.add(user, events=[event]))
        except EmailTakenError:
            assert any(u.email == user.email for u in self.users.values())
            return
        self.users[user.id] = user
        self.committed.append(event)

    @precondition(lambda self: self.users)
    @rule(data=st.data(), stale=st.booleans(), count=st.integers(1, 3))
    def update(self, data: st.DataObject, stale: bool, count: int) -> None:
        """Change a user with one to three events; from a stale version, nothing is written."""
        user = data.draw(st.sampled_from(sorted(self.users.values(), key=lambda u: u.id)))
        changed = attrs.evolve(user, name=f"{user.name}x", version=user.version + 1)
        events = [self.make.updated(changed) for _ in range(count)]
        expected = user.version - 1 if stale else user.version
        try:
            self.run(
                self.repositories.users.update(changed, expected_version=expected, events=events)
            )
        except VersionConflictError:
            assert stale
            return
        assert not stale
        self.users[user.id] = changed
        self.committed.extend(events)

    @precondition(lambda self: self.users)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        """Delete a user with its event."""
        user = data.draw(st.sampled_from(sorted(self.users.values(), key=lambda u: u.id)))
        event = self.make.deleted(user)
        assert self.run(self.repositories.users.delete(user.id, events=[event]))
        del self.users[user.id]
        self.committed.append(event)

    @precondition(lambda self: self.users)
    @rule(data=st.data())
    def append(self, data: st.DataObject) -> None:
        """An event with no user write (a logout)."""
        user = data.draw(st.sampled_from(sorted(self.users.values(), key=lambda u: u.id)))
        event = self.make.standalone(user)
        self.run(self.repositories.events.append([event]))
        self.committed.append(event)

    @rule(failures=st.lists(st.booleans(), max_size=4))
    def deliver(self, failures: list[bool]) -> None:
        """One round of the current process, the subscriber failing as planned."""
        self.subscriber.failures[:] = failures
        self.run(self.dispatcher.run_once())

    @rule()
    def crash_and_restart(self) -> None:
        """The process dies holding its lease; a new one starts (and waits the lease out)."""
        self.dispatcher = self._new_dispatcher()

    @rule(seconds=st.sampled_from([0.5, 2, 11]))
    def time_passes(self, seconds: float) -> None:
        """Backoffs end; leases of dead processes run out."""
        self.clock.advance(seconds)

    # --- invariants ----------------------------------------------------------

    @invariant()
    def only_committed_events_arrive_in_commit_order_per_user(self) -> None:
        """Nothing uncommitted arrives, and each user's first deliveries keep commit order."""
        committed = {event.id: index for index, event in enumerate(self.committed)}
        first: dict[UserId, list[int]] = {}
        seen: set[str] = set()
        for event in self.subscriber.received:
            assert event.id in committed, f"delivered but never committed: {event}"
            if event.id not in seen:
                seen.add(event.id)
                first.setdefault(event.user_id, []).append(committed[event.id])
        for user_id, order in first.items():
            assert order == sorted(order), f"out of order for {user_id}"
