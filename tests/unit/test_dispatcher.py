"""The dispatcher: in order, at least once, retries with backoff, parking, leases, pruning."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

import pytest

import usercore
from usercore.adapters.memory import InMemoryEventLog, InMemoryStore
from usercore.domain.events import DomainEvent, PasswordChanged, UserRegistered
from usercore.domain.ids import UserId
from usercore.ports.events import EventLog, Notification
from usercore.services.dispatch import DeliveryPolicy, Dispatcher
from usercore.services.hooks import HookSubscriber, hook_subscribers
from usercore.testing import ManualClock, SequentialIds

PASSWORD = "correct horse battery staple"


class Recorder:
    """A subscriber that fails while told to, and records what it got."""

    def __init__(self, name: str = "recorder") -> None:
        self.name = name
        self.received: list[DomainEvent] = []
        self.failing = False

    async def deliver(self, event: DomainEvent) -> None:
        if self.failing:
            raise RuntimeError("receiver down")
        self.received.append(event)


class Kit:
    def __init__(self) -> None:
        self.clock = ManualClock()
        self.ids = SequentialIds(self.clock)
        self.log: EventLog = InMemoryEventLog(InMemoryStore())
        self.user = UserId(self.ids.new_id())

    def event(self) -> DomainEvent:
        self.clock.advance(0.001)
        return PasswordChanged(
            id=self.ids.new_id(), user_id=self.user, occurred_at=self.clock.now()
        )

    def dispatcher(self, *subscribers: Recorder, owner: str = "a", **policy: float) -> Dispatcher:
        return Dispatcher(
            log=self.log,
            subscribers=subscribers,
            clock=self.clock,
            owner=owner,
            policy=DeliveryPolicy(**policy),  # type: ignore[arg-type]
        )


async def test_every_subscriber_gets_every_event_in_order() -> None:
    kit = Kit()
    events = [kit.event() for _ in range(5)]
    await kit.log.append(events[:2])
    await kit.log.append(events[2:])
    one, two = Recorder("one"), Recorder("two")
    assert await kit.dispatcher(one, two).run_once() == 10
    assert one.received == events
    assert two.received == events
    assert await kit.dispatcher(one, two).run_once() == 0


async def test_a_failing_subscriber_waits_with_backoff_without_holding_back_others() -> None:
    kit = Kit()
    await kit.log.append([kit.event(), kit.event()])
    down, up = Recorder("down"), Recorder("up")
    down.failing = True
    dispatcher = kit.dispatcher(down, up, backoff_seconds=10)
    await dispatcher.run_once()
    assert len(up.received) == 2
    down.failing = False
    await dispatcher.run_once()
    assert down.received == []  # backing off
    kit.clock.advance(10)
    await dispatcher.run_once()
    assert down.received == up.received


async def test_an_event_is_parked_after_max_attempts_then_retried_on_request() -> None:
    kit = Kit()
    first, second = kit.event(), kit.event()
    await kit.log.append([first, second])
    receiver = Recorder()
    dispatcher = kit.dispatcher(receiver, max_attempts=3, backoff_seconds=1)
    receiver.failing = True
    for _ in range(3):
        await dispatcher.run_once()
        kit.clock.advance(60)
    [parked] = await dispatcher.failed()
    assert (parked.subscriber, parked.notification.event, parked.attempts) == (
        "recorder",
        first,
        3,
    )
    assert "receiver down" in parked.error
    receiver.failing = False
    await dispatcher.run_once()
    assert receiver.received == [second]
    assert await dispatcher.retry("recorder") == 1
    await dispatcher.run_once()
    assert receiver.received == [second, first]
    assert await dispatcher.failed() == []


async def test_two_processes_never_deliver_concurrently_and_a_dead_ones_work_resumes() -> None:
    kit = Kit()
    await kit.log.append([kit.event()])
    receiver = Recorder()
    a = kit.dispatcher(receiver, owner="a", lease_seconds=30)
    b = kit.dispatcher(receiver, owner="b", lease_seconds=30)
    assert await a.run_once() == 1
    await kit.log.append([kit.event()])
    assert await b.run_once() == 0  # a holds the lease
    kit.clock.advance(31)  # a died without releasing it
    assert await b.run_once() == 1
    assert len(receiver.received) == 2
    await b.release()
    await kit.log.append([kit.event()])
    assert await a.run_once() == 1
    assert len({e.id for e in receiver.received}) == 3


async def test_prune_keeps_what_a_subscriber_still_needs() -> None:
    kit = Kit()
    await kit.log.append([kit.event(), kit.event()])
    receiver = Recorder()
    dispatcher = kit.dispatcher(receiver, retention_seconds=60)
    receiver.failing = True
    await dispatcher.run_once()
    kit.clock.advance(120)
    assert await dispatcher.prune() == 0
    receiver.failing = False
    kit.clock.advance(120)
    await dispatcher.run_once()
    assert await dispatcher.prune() == 2


def test_hooks_map_event_classes_type_names_and_star() -> None:
    def welcome(event: DomainEvent) -> None: ...

    async def audit(event: DomainEvent) -> None: ...

    subscribers = hook_subscribers(
        {UserRegistered: welcome, "user.password_changed": [welcome, audit], "*": audit}
    )
    assert [s.name for s in subscribers] == [
        f"hook:{__name__}.test_hooks_map_event_classes_type_names_and_star.<locals>.welcome",
        f"hook:{__name__}.test_hooks_map_event_classes_type_names_and_star.<locals>.audit",
    ]
    with pytest.raises(ValueError, match="no event type"):
        hook_subscribers({"user.nothing": welcome})


async def test_a_hook_gets_only_the_events_it_asked_for() -> None:
    kit = Kit()
    got: list[DomainEvent] = []
    hook = HookSubscriber(got.append, [UserRegistered], name="hook")
    await hook.deliver(kit.event())
    assert got == []


async def test_connect_runs_hooks_for_what_the_block_committed(tmp_path: Path) -> None:
    registered: list[DomainEvent] = []
    everything: list[str] = []

    async def remember(event: DomainEvent) -> None:
        everything.append(event.type)

    def welcome(event: UserRegistered) -> None:  # typed as the class it is registered for
        registered.append(event)

    async with usercore.connect(
        "memory://",
        argon2_memory_kib=256,
        data_dir=tmp_path,
        on={UserRegistered: welcome, "*": remember},
    ) as core:
        user = await core.users.register(email="ada@example.com", password=PASSWORD)
        await core.users.update_profile(actor=user, name="Ada")
    [event] = registered
    assert isinstance(event, UserRegistered)
    assert event.user_id == user.id
    assert everything == ["user.registered", "user.updated"]


async def test_run_survives_a_failing_round_and_delivers_after_it() -> None:
    kit = Kit()
    await kit.log.append([kit.event()])
    real_read = kit.log.read
    calls = 0

    async def read_failing_once(*, after: int, limit: int) -> Sequence[Notification]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise KeyError("user.from_the_future")
        return await real_read(after=after, limit=limit)

    kit.log.read = read_failing_once  # type: ignore[method-assign]
    receiver = Recorder()
    task = asyncio.create_task(kit.dispatcher(receiver, poll_seconds=0.01).run())
    try:
        for _ in range(200):
            if receiver.received:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(receiver.received) == 1
