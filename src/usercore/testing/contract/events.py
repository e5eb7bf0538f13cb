"""The outbox contract: events are written with their change or not at all, read back in order."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.testing.contract.base import RecordFactory, Repositories


async def _all_events(repositories: Repositories) -> list[DomainEvent]:
    notifications = await repositories.events.read(after=0, limit=1000)
    positions = [n.position for n in notifications]
    assert positions == sorted(set(positions)), "positions must grow"
    return [n.event for n in notifications]


class EventLogContract:
    """Subclass with a ``repositories`` fixture (see `UserRepositoryContract`)."""

    @pytest.fixture
    def make(self) -> RecordFactory:
        """Fresh records for one test."""
        return RecordFactory()

    async def test_a_committed_change_writes_all_its_events_in_order(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user(name="Ada")
        registered = make.registered(user)
        await repositories.users.add(user, events=[registered])
        renamed = attrs.evolve(user, name="Ada L.", version=2)
        first, second = make.updated(renamed, actor=user), make.updated(renamed)
        await repositories.users.update(renamed, expected_version=1, events=[first, second])
        deleted = make.deleted(user)
        assert await repositories.users.delete(user.id, events=[deleted])
        assert await _all_events(repositories) == [registered, first, second, deleted]

    async def test_events_read_back_equal_with_every_field(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        admin, user = make.user(), make.user(name="Grace ✓")
        await repositories.users.add(user)
        changed = attrs.evolve(user, version=2)
        event = make.updated(changed, actor=admin)
        await repositories.users.update(changed, expected_version=1, events=[event])
        [stored] = await _all_events(repositories)
        assert stored == event
        assert type(stored) is type(event)
        assert stored.occurred_at.utcoffset() is not None

    async def test_a_refused_registration_writes_no_event(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        first = make.user(email="ada@example.com")
        await repositories.users.add(first, events=[make.registered(first)])
        clash = make.user(email="ADA@example.com")
        with pytest.raises(EmailTakenError):
            await repositories.users.add(clash, events=[make.registered(clash)])
        assert [e.user_id for e in await _all_events(repositories)] == [first.id]

    async def test_a_version_conflict_writes_no_event(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        changed = attrs.evolve(user, name="x", version=3)
        with pytest.raises(VersionConflictError):
            await repositories.users.update(
                changed, expected_version=2, events=[make.updated(changed)]
            )
        assert await _all_events(repositories) == []

    async def test_an_update_to_a_taken_email_writes_no_event(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        ada, grace = make.user(email="ada@example.com"), make.user(email="grace@example.com")
        await repositories.users.add(ada)
        await repositories.users.add(grace)
        moved = attrs.evolve(grace, email=Email.parse("ada@example.com"), version=2)
        with pytest.raises(EmailTakenError):
            await repositories.users.update(moved, expected_version=1, events=[make.updated(moved)])
        assert await _all_events(repositories) == []

    async def test_changing_or_deleting_a_missing_user_writes_no_event(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        ghost = make.user()
        with pytest.raises(UserNotFoundError):
            await repositories.users.update(
                attrs.evolve(ghost, version=2), expected_version=1, events=[make.updated(ghost)]
            )
        assert not await repositories.users.delete(ghost.id, events=[make.deleted(ghost)])
        assert await _all_events(repositories) == []

    async def test_appended_events_follow_earlier_ones_in_order(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        registered = make.registered(user)
        await repositories.users.add(user, events=[registered])
        later = [make.standalone(user), make.standalone(user, reason="user")]
        await repositories.events.append(later)
        await repositories.events.append([])
        assert await _all_events(repositories) == [registered, *later]
        [_, second] = await repositories.events.read(after=0, limit=2)
        assert [
            n.event for n in await repositories.events.read(after=second.position, limit=5)
        ] == [later[1]]

    async def test_one_lease_holder_at_a_time_until_it_runs_out(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        log, now = repositories.events, make.clock.now()
        until = now + timedelta(seconds=30)
        tracking = await log.lease("hook", owner="a", now=now, until=until)
        assert tracking is not None
        assert tracking.position == 0
        assert await log.lease("hook", owner="b", now=now, until=until) is None
        assert await log.lease("other", owner="b", now=now, until=until) is not None
        assert not await log.advance("hook", owner="b", position=5)
        assert await log.advance("hook", owner="a", position=5)
        later = until + timedelta(seconds=1)
        taken = await log.lease("hook", owner="b", now=later, until=later + timedelta(seconds=30))
        assert taken is not None
        assert taken.position == 5
        assert not await log.advance("hook", owner="a", position=6)
        await log.release("hook", owner="b")
        assert await log.lease("hook", owner="a", now=later, until=later) is not None

    async def test_failures_postpone_then_park_and_retry_on_request(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        log, now, user = repositories.events, make.clock.now(), make.user()
        await log.append([make.standalone(user), make.standalone(user)])
        first, second = await log.read(after=0, limit=10)
        await log.lease("hook", owner="a", now=now, until=now + timedelta(seconds=30))
        retry_at = now + timedelta(seconds=2)
        assert await log.postpone("hook", owner="a", attempts=1, retry_at=retry_at)
        tracking = await log.lease("hook", owner="a", now=now, until=now + timedelta(seconds=30))
        assert tracking is not None
        assert (tracking.position, tracking.attempts, tracking.retry_at) == (0, 1, retry_at)
        assert await log.park(
            "hook", owner="a", notification=first, attempts=5, error="HTTP 500", now=now
        )
        tracking = await log.lease("hook", owner="a", now=now, until=now + timedelta(seconds=30))
        assert tracking is not None
        assert (tracking.position, tracking.attempts) == (first.position, 0)
        [parked] = await log.parked()
        assert (parked.subscriber, parked.notification, parked.attempts) == ("hook", first, 5)
        assert (parked.error, parked.retry_requested) == ("HTTP 500", False)
        assert await log.parked("other") == []
        assert await log.request_retry("other") == 0
        assert await log.request_retry(event_id=first.event.id) == 1
        [parked] = await log.parked("hook")
        assert parked.retry_requested
        await log.settle_parked("hook", first.event.id, delivered=False, error="HTTP 502")
        [parked] = await log.parked("hook")
        assert (parked.attempts, parked.error, parked.retry_requested) == (6, "HTTP 502", False)
        await log.request_retry()
        await log.settle_parked("hook", first.event.id, delivered=True)
        assert await log.parked() == []
        assert second.position > first.position

    async def test_prune_drops_only_old_events_every_subscriber_processed(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        log, user = repositories.events, make.user()
        await log.append([make.standalone(user) for _ in range(3)])
        one, two, three = await log.read(after=0, limit=10)
        now = make.clock.advance(10)
        for name, position in (("a", two.position), ("b", three.position)):
            await log.lease(name, owner="x", now=now, until=now + timedelta(seconds=30))
            await log.advance(name, owner="x", position=position)
        assert await log.prune(subscribers=["a", "b"], before=one.event.occurred_at) == 0
        assert await log.prune(subscribers=["a", "b"], before=now) == 2
        assert await log.read(after=0, limit=10) == [three]
        assert await log.prune(subscribers=[], before=now) == 1
        assert await log.read(after=0, limit=10) == []
