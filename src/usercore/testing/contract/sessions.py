"""The SessionRepository contract: every adapter must pass exactly these tests."""

from __future__ import annotations

import asyncio

import attrs
import pytest
import pytest_asyncio

from usercore.domain.errors import UserNotFoundError
from usercore.domain.sessions import MAX_PREVIOUS_HASHES, Session
from usercore.domain.user import User
from usercore.testing.contract.base import RecordFactory, Repositories


class SessionRepositoryContract:
    """Subclass with a ``repositories`` fixture that yields `Repositories` over empty storage."""

    # Marked, so the suite runs under pytest-asyncio's strict mode as well as auto mode.
    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def make(self) -> RecordFactory:
        """Fresh records for one test."""
        return RecordFactory()

    @pytest_asyncio.fixture
    async def user(self, repositories: Repositories, make: RecordFactory) -> User:
        """A stored user to own sessions."""
        user = make.user()
        await repositories.users.add(user)
        return user

    def _rotate(self, session: Session, make: RecordFactory, token_hash: str) -> Session:
        now = make.clock.advance()
        return session.rotated(token_hash=token_hash, now=now, expires_at=session.expires_at)

    async def test_add_then_get_returns_an_equal_session(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user)
        await repositories.sessions.add(session)
        assert await repositories.sessions.get(session.id) == session

    async def test_get_of_an_unknown_session_is_none(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        assert await repositories.sessions.get(make.session(user).id) is None

    async def test_add_for_an_unknown_user_raises_not_found(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        session = make.session(make.user())
        with pytest.raises(UserNotFoundError):
            await repositories.sessions.add(session)
        assert await repositories.sessions.get(session.id) is None

    async def test_rotate_from_the_current_generation_replaces_the_session(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user, token_hash="h0")
        await repositories.sessions.add(session)
        rotated = self._rotate(session, make, "h1")
        assert await repositories.sessions.rotate(session, rotated) is True
        stored = await repositories.sessions.get(session.id)
        assert stored == rotated
        assert stored is not None
        assert stored.previous_hashes == ("h0",)
        assert stored.generation == 1

    async def test_rotate_from_a_superseded_generation_changes_nothing(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user, token_hash="h0")
        await repositories.sessions.add(session)
        first = self._rotate(session, make, "h1")
        assert await repositories.sessions.rotate(session, first) is True
        assert (
            await repositories.sessions.rotate(session, self._rotate(session, make, "h2")) is False
        )
        assert await repositories.sessions.get(session.id) == first

    async def test_rotate_of_a_revoked_session_changes_nothing(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user)
        await repositories.sessions.add(session)
        await repositories.sessions.revoke(session.id, now=make.clock.advance())
        revoked = await repositories.sessions.get(session.id)
        assert (
            await repositories.sessions.rotate(session, self._rotate(session, make, "h")) is False
        )
        assert await repositories.sessions.get(session.id) == revoked

    async def test_concurrent_rotations_let_exactly_one_win(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user)
        await repositories.sessions.add(session)
        candidates = [self._rotate(session, make, f"next-{i}") for i in range(20)]
        results = await asyncio.gather(
            *(repositories.sessions.rotate(session, c) for c in candidates)
        )
        assert results.count(True) == 1
        winner = candidates[results.index(True)]
        assert await repositories.sessions.get(session.id) == winner

    async def test_previous_hashes_round_trip_up_to_the_bound(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user, token_hash="h-0")
        await repositories.sessions.add(session)
        for generation in range(1, MAX_PREVIOUS_HASHES + 3):
            rotated = self._rotate(session, make, f"h-{generation}")
            assert await repositories.sessions.rotate(session, rotated) is True
            session = rotated
        stored = await repositories.sessions.get(session.id)
        assert stored == session
        assert stored is not None
        assert len(stored.previous_hashes) == MAX_PREVIOUS_HASHES
        assert stored.previous_hashes[-1] == f"h-{MAX_PREVIOUS_HASHES + 1}"

    async def test_revoke_marks_the_session_once(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = make.session(user)
        await repositories.sessions.add(session)
        when = make.clock.advance()
        assert await repositories.sessions.revoke(session.id, now=when) is True
        assert await repositories.sessions.revoke(session.id, now=make.clock.advance()) is False
        assert await repositories.sessions.get(session.id) == session.revoked(now=when)
        assert await repositories.sessions.revoke(make.session(user).id, now=when) is False

    async def test_revoke_all_revokes_only_that_users_live_sessions(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        other = make.user()
        await repositories.users.add(other)
        mine = [make.session(user) for _ in range(3)]
        theirs = make.session(other)
        for session in (*mine, theirs):
            await repositories.sessions.add(session)
        await repositories.sessions.revoke(mine[0].id, now=make.clock.advance())
        when = make.clock.advance()
        assert await repositories.sessions.revoke_all(user.id, now=when) == 2
        stored = await repositories.sessions.list_for_user(user.id)
        assert all(session.revoked_at is not None for session in stored)
        assert [s.revoked_at for s in stored][1:] == [when, when]
        assert await repositories.sessions.get(theirs.id) == theirs

    async def test_list_for_user_returns_all_their_sessions_oldest_first(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        sessions = [make.session(user) for _ in range(4)]
        for session in reversed(sessions):
            await repositories.sessions.add(session)
        await repositories.sessions.revoke(sessions[1].id, now=make.clock.advance())
        listed = await repositories.sessions.list_for_user(user.id)
        assert [s.id for s in listed] == [s.id for s in sessions]
        assert listed[1].revoked_at is not None

    async def test_purge_deletes_exactly_the_expired_and_revoked_sessions(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        short = make.session(user, ttl_seconds=10)
        long = make.session(user, ttl_seconds=1000)
        ended = make.session(user, ttl_seconds=1000)
        for session in (short, long, ended):
            await repositories.sessions.add(session)
        assert await repositories.sessions.purge(now=make.clock.advance(5)) == 0
        await repositories.sessions.revoke(ended.id, now=make.clock.advance())
        assert await repositories.sessions.purge(now=make.clock.now()) == 1
        assert await repositories.sessions.purge(now=short.expires_at) == 1
        assert await repositories.sessions.get(short.id) is None
        assert await repositories.sessions.get(ended.id) is None
        assert await repositories.sessions.get(long.id) == long

    async def test_a_session_keeps_its_epoch_and_user_agent(
        self, repositories: Repositories, make: RecordFactory, user: User
    ) -> None:
        session = attrs.evolve(make.session(user), epoch=7, user_agent="Mozilla/5.0 (X11) é")
        await repositories.sessions.add(session)
        stored = await repositories.sessions.get(session.id)
        assert stored is not None
        assert (stored.epoch, stored.user_agent) == (7, "Mozilla/5.0 (X11) é")
