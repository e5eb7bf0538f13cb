"""The UserRepository contract for bulk imports: ``add_many`` and ``get_many``."""

from __future__ import annotations

from collections.abc import Iterable

import attrs
import pytest

from usercore.domain.email import Email
from usercore.domain.user import User
from usercore.testing.contract.base import RecordFactory, Repositories


class UserBatchContract:
    """Part of :class:`UserRepositoryContract`: storing and reading many users at once."""

    # Marked, so the suite runs under pytest-asyncio's strict mode as well as auto mode.
    pytestmark = pytest.mark.asyncio

    async def test_add_many_stores_every_new_user_whole(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        batch = [make.user(name=f"user {i} ✓") for i in range(7)]
        stored = await repositories.users.add_many(batch)
        assert stored == {user.id for user in batch}
        for user in batch:
            assert await repositories.users.get(user.id) == user
            assert await repositories.users.get_by_email(user.email) == user

    async def test_add_many_leaves_out_users_whose_id_or_email_is_taken(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        present = make.user(email="present@example.com")
        await repositories.users.add(present)
        same_id = attrs.evolve(make.user(), id=present.id)
        same_email = make.user(email="PRESENT@example.com")
        fresh = make.user()
        stored = await repositories.users.add_many([same_id, same_email, fresh])
        assert stored == {fresh.id}
        assert await repositories.users.get(present.id) == present
        assert await repositories.users.get(same_email.id) is None
        assert await repositories.users.get_by_email(same_id.email) is None
        assert await repositories.users.get(fresh.id) == fresh

    async def test_add_many_keeps_the_first_of_two_users_with_one_email(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        first, second = make.user(email="twice@example.com"), make.user(email="Twice@Example.com")
        assert await repositories.users.add_many([first, second]) == {first.id}
        assert await repositories.users.get_by_email(Email.parse("twice@example.com")) == first
        assert await repositories.users.get(second.id) is None

    async def test_add_many_of_stored_users_changes_nothing(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        batch = [make.user() for _ in range(3)]
        await repositories.users.add_many(batch)
        assert await repositories.users.add_many(batch) == set()
        assert await repositories.users.add_many([]) == set()
        assert _by_id(await repositories.users.get_many([u.id for u in batch])) == _by_id(batch)

    async def test_get_many_returns_the_stored_ones_and_leaves_out_the_absent(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        stored, absent = make.user(), make.user()
        await repositories.users.add(stored)
        assert await repositories.users.get_many([absent.id, stored.id]) == [stored]
        assert await repositories.users.get_many([]) == []

    @pytest.mark.parametrize("size", [1, 250, 1200])
    async def test_add_many_takes_large_batches(
        self, repositories: Repositories, make: RecordFactory, size: int
    ) -> None:
        batch = [make.user() for _ in range(size)]
        assert len(await repositories.users.add_many(batch)) == size
        found = await repositories.users.get_many([user.id for user in batch])
        assert _by_id(found) == _by_id(batch)


def _by_id(users: Iterable[User]) -> list[User]:
    return sorted(users, key=lambda user: user.id)
