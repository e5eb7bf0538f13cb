"""Concurrency on real databases: uniqueness and compare-and-set hold under racing writers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.integration.sqlalchemy.support import open_database, repositories_on
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, VersionConflictError
from usercore.testing import RecordFactory


def _case_variant(local: str, index: int) -> str:
    # A distinct mix of upper and lower case per index (2**7 > 100 variants).
    return "".join(ch.upper() if index >> position & 1 else ch for position, ch in enumerate(local))


async def test_one_email_in_100_letter_cases_makes_exactly_one_user(sql_url: str) -> None:
    database = open_database(sql_url)
    repos = repositories_on(database)
    make = RecordFactory()
    candidates = [make.user(email=f"{_case_variant('someone', i)}@Example.COM") for i in range(100)]
    assert len({user.email for user in candidates}) == 1
    try:
        results = await asyncio.gather(
            *(repos.users.add(user) for user in candidates), return_exceptions=True
        )
        winners = [user for user, result in zip(candidates, results, strict=True) if result is None]
        losers = [result for result in results if isinstance(result, EmailTakenError)]
        assert len(winners) == 1
        assert len(losers) == 99
        stored = await repos.users.get_by_email(Email("someone@example.com"))
        assert stored == winners[0]
    finally:
        await database.dispose()


async def test_50_compare_and_set_updates_from_one_version_have_one_winner(sql_url: str) -> None:
    database = open_database(sql_url)
    repos = repositories_on(database)
    make = RecordFactory()
    user = make.user()
    try:
        await repos.users.add(user)
        now = make.clock.now() + timedelta(seconds=1)
        contenders = [user.with_profile(now=now, name=f"writer {i}") for i in range(50)]
        results = await asyncio.gather(
            *(repos.users.update(c, expected_version=1) for c in contenders),
            return_exceptions=True,
        )
        winners = [c for c, result in zip(contenders, results, strict=True) if result is None]
        conflicts = [r for r in results if isinstance(r, VersionConflictError)]
        assert len(winners) == 1
        assert len(conflicts) == 49
        assert await repos.users.get(user.id) == winners[0]
    finally:
        await database.dispose()


async def test_20_rotations_of_one_session_generation_have_one_winner(sql_url: str) -> None:
    database = open_database(sql_url)
    repos = repositories_on(database)
    make = RecordFactory()
    user = make.user()
    session = make.session(user)
    try:
        await repos.users.add(user)
        await repos.sessions.add(session)
        now = make.clock.now()
        rotations = [
            session.rotated(token_hash=f"next-{i}", now=now, expires_at=now + timedelta(hours=1))
            for i in range(20)
        ]
        results = await asyncio.gather(
            *(repos.sessions.rotate(session, rotated) for rotated in rotations)
        )
        assert results.count(True) == 1
        winner = rotations[results.index(True)]
        assert await repos.sessions.get(session.id) == winner
    finally:
        await database.dispose()


@pytest.mark.parametrize("writers", [20])
async def test_concurrent_writers_never_see_a_locked_database(sql_url: str, writers: int) -> None:
    # Each writer registers users and updates them, all at once, through its own adapter
    # instance (as separate server workers would), plus one shared instance.
    shared = open_database(sql_url)
    make = RecordFactory()
    try:

        async def writer(index: int) -> None:
            database = shared if index % 2 else open_database(sql_url)
            repos = repositories_on(database)
            try:
                for round_ in range(5):
                    user = make.user(email=f"w{index}r{round_}@example.com")
                    await repos.users.add(user)
                    changed = user.with_profile(now=user.updated_at, name="renamed")
                    await repos.users.update(changed, expected_version=1)
            finally:
                if database is not shared:
                    await database.dispose()

        await asyncio.gather(*(writer(i) for i in range(writers)))
        repos = repositories_on(shared)
        for index in range(writers):
            stored = await repos.users.get_by_email(Email(f"w{index}r4@example.com"))
            assert stored is not None
            assert stored.name == "renamed"
    finally:
        await shared.dispose()
