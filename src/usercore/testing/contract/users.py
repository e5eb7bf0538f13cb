"""The UserRepository contract: every adapter must pass exactly these tests."""

from __future__ import annotations

import asyncio

import pytest

from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.listing import UserQuery, decode_cursor
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.testing.contract.base import RecordFactory, Repositories
from usercore.testing.contract.batches import UserBatchContract


async def _list_all(repositories: Repositories, query: UserQuery) -> list[User]:
    users: list[User] = []
    while True:
        page = await repositories.users.list(query)
        users.extend(page.items)
        if page.next_cursor is None:
            return users
        query = UserQuery(
            limit=query.limit,
            after=decode_cursor(page.next_cursor),
            email_prefix=query.email_prefix,
            role=query.role,
            is_active=query.is_active,
        )


class UserRepositoryContract(UserBatchContract):
    """Subclass with a ``repositories`` fixture that yields `Repositories` over empty storage.

    Example::

        class TestMyUsers(UserRepositoryContract):
            @pytest_asyncio.fixture
            async def repositories(self):
                async with my_backend() as (users, sessions):
                    yield Repositories(users=users, sessions=sessions)
    """

    # Marked, so the suite runs under pytest-asyncio's strict mode as well as auto mode.
    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def make(self) -> RecordFactory:
        """Fresh records for one test."""
        return RecordFactory()

    async def test_add_then_get_returns_an_equal_user(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user(name="Ada Lovelace ✓", roles=frozenset({Role.USER, Role.ADMIN}))
        await repositories.users.add(user)
        stored = await repositories.users.get(user.id)
        assert stored == user
        assert stored is not None
        assert stored.created_at.utcoffset() is not None

    async def test_get_and_get_by_email_return_none_when_absent(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        absent = make.user()
        assert await repositories.users.get(absent.id) is None
        assert await repositories.users.get_by_email(absent.email) is None

    async def test_get_by_email_finds_the_normalised_address(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user(email="Ada.Lovelace+x@Example.COM")
        await repositories.users.add(user)
        assert (
            await repositories.users.get_by_email(Email.parse("ada.lovelace+X@example.com")) == user
        )

    async def test_rejects_duplicate_email_case_insensitively(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        first = make.user(email="ada@example.com")
        await repositories.users.add(first)
        with pytest.raises(EmailTakenError):
            await repositories.users.add(make.user(email="ADA@Example.com"))
        assert await repositories.users.get_by_email(first.email) == first

    async def test_update_with_the_current_version_stores_the_change(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        changed = user.with_profile(now=make.clock.advance(), name="Grace")
        await repositories.users.update(changed, expected_version=user.version)
        assert await repositories.users.get(user.id) == changed
        assert changed.version == user.version + 1

    async def test_update_stores_the_password_hash_and_credential_epoch_together(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        changed = user.with_password(PasswordHash("$test$new"), now=make.clock.advance())
        await repositories.users.update(changed, expected_version=user.version)
        stored = await repositories.users.get(user.id)
        assert stored is not None
        assert stored == changed
        assert stored.credential_epoch == user.credential_epoch + 1

    async def test_update_with_a_stale_version_changes_nothing(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        first = user.with_profile(now=make.clock.advance(), name="first")
        await repositories.users.update(first, expected_version=user.version)
        second = user.with_profile(now=make.clock.advance(), name="second")
        with pytest.raises(VersionConflictError):
            await repositories.users.update(second, expected_version=user.version)
        assert await repositories.users.get(user.id) == first

    async def test_update_of_an_unknown_user_raises_not_found(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        with pytest.raises(UserNotFoundError):
            await repositories.users.update(user, expected_version=1)
        assert await repositories.users.get(user.id) is None

    async def test_update_to_another_users_email_raises_and_changes_nothing(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        ada, grace = make.user(), make.user()
        await repositories.users.add(ada)
        await repositories.users.add(grace)
        clash = grace.with_profile(now=make.clock.advance(), email=ada.email, name="x")
        with pytest.raises(EmailTakenError):
            await repositories.users.update(clash, expected_version=grace.version)
        assert await repositories.users.get(grace.id) == grace
        assert await repositories.users.get_by_email(ada.email) == ada

    async def test_changing_email_frees_the_old_address(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user(email="old@example.com")
        await repositories.users.add(user)
        moved = user.with_profile(now=make.clock.advance(), email=Email.parse("new@example.com"))
        await repositories.users.update(moved, expected_version=user.version)
        assert await repositories.users.get_by_email(Email.parse("old@example.com")) is None
        assert await repositories.users.get_by_email(moved.email) == moved
        newcomer = make.user(email="old@example.com")
        await repositories.users.add(newcomer)
        assert await repositories.users.get_by_email(newcomer.email) == newcomer

    async def test_delete_removes_the_user_and_frees_the_email(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        assert await repositories.users.delete(user.id) is True
        assert await repositories.users.get(user.id) is None
        assert await repositories.users.get_by_email(user.email) is None
        assert await repositories.users.delete(user.id) is False
        again = make.user(email=user.email.value)
        await repositories.users.add(again)
        assert await repositories.users.get_by_email(user.email) == again

    async def test_delete_removes_the_users_sessions(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user, other = make.user(), make.user()
        await repositories.users.add(user)
        await repositories.users.add(other)
        session, kept = make.session(user), make.session(other)
        await repositories.sessions.add(session)
        await repositories.sessions.add(kept)
        await repositories.users.delete(user.id)
        assert await repositories.sessions.get(session.id) is None
        assert await repositories.sessions.list_for_user(user.id) == []
        assert await repositories.sessions.get(kept.id) == kept

    async def test_list_pages_through_every_user_in_id_order(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        created = [make.user() for _ in range(23)]
        for user in reversed(created):
            await repositories.users.add(user)
        first = await repositories.users.list(UserQuery(limit=10))
        assert list(first.items) == created[:10]
        assert first.next_cursor is not None
        assert await _list_all(repositories, UserQuery(limit=10)) == created
        assert await _list_all(repositories, UserQuery(limit=23)) == created
        exact = await repositories.users.list(UserQuery(limit=23))
        assert exact.next_cursor is None

    async def test_list_of_empty_storage_is_one_empty_page(
        self, repositories: Repositories
    ) -> None:
        page = await repositories.users.list(UserQuery())
        assert page.items == ()
        assert page.next_cursor is None

    async def test_list_filters_by_email_prefix_role_and_activity(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        ada = make.user(email="ada@example.com", roles=frozenset({Role.USER, Role.ADMIN}))
        adam = make.user(email="adam@example.org", is_active=False)
        bob = make.user(email="bob@example.com", roles=frozenset({Role.ADMIN}))
        ad_ = make.user(email="ad_x@example.com")  # '_' must not act as a wildcard
        adpct = make.user(email="ad%x@example.com")  # nor '%'
        for user in (ada, adam, bob, ad_, adpct):
            await repositories.users.add(user)

        async def ids(query: UserQuery) -> list[str]:
            return [user.id.value for user in await _list_all(repositories, query)]

        assert await ids(UserQuery(email_prefix="ADA")) == [ada.id.value, adam.id.value]
        assert await ids(UserQuery(email_prefix="ad_")) == [ad_.id.value]
        assert await ids(UserQuery(email_prefix="ad%")) == [adpct.id.value]
        assert await ids(UserQuery(role=Role.ADMIN)) == [ada.id.value, bob.id.value]
        assert await ids(UserQuery(is_active=False)) == [adam.id.value]
        assert await ids(UserQuery(email_prefix="ad", is_active=True, limit=1)) == [
            ada.id.value,
            ad_.id.value,
            adpct.id.value,
        ]
        assert await ids(UserQuery(email_prefix="zzz")) == []

    async def test_list_continues_after_a_cursor_whose_user_was_deleted(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        users = [make.user() for _ in range(6)]
        for user in users:
            await repositories.users.add(user)
        page = await repositories.users.list(UserQuery(limit=3))
        assert page.next_cursor is not None
        await repositories.users.delete(users[2].id)
        rest = await repositories.users.list(
            UserQuery(limit=3, after=decode_cursor(page.next_cursor))
        )
        assert list(rest.items) == users[3:]

    async def test_concurrent_adds_of_one_email_store_exactly_one(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        spellings = ["dup@example.com", "DUP@example.com", "Dup@Example.com", "dUp@EXAMPLE.COM"]
        candidates = [make.user(email=spellings[i % len(spellings)]) for i in range(20)]
        results = await asyncio.gather(
            *(repositories.users.add(user) for user in candidates), return_exceptions=True
        )
        assert sum(result is None for result in results) == 1
        assert all(isinstance(r, EmailTakenError) for r in results if r is not None)
        stored = await repositories.users.get_by_email(Email.parse("dup@example.com"))
        assert stored in candidates

    async def test_concurrent_updates_at_one_version_let_exactly_one_win(
        self, repositories: Repositories, make: RecordFactory
    ) -> None:
        user = make.user()
        await repositories.users.add(user)
        now = make.clock.advance()
        changes = [user.with_profile(now=now, name=f"writer {i}") for i in range(10)]
        results = await asyncio.gather(
            *(repositories.users.update(c, expected_version=1) for c in changes),
            return_exceptions=True,
        )
        winners = [c for c, result in zip(changes, results, strict=True) if result is None]
        assert len(winners) == 1
        assert all(isinstance(r, VersionConflictError) for r in results if r is not None)
        assert await repositories.users.get(user.id) == winners[0]

    async def test_ping_answers(self, repositories: Repositories) -> None:
        await repositories.users.ping()
