"""Concurrent writers on the MongoDB adapter: the database, not Python, picks one winner.

On mongomock-motor each operation runs without yielding to the event loop,
so these hold trivially there; against a real server (USERCORE_TEST_MONGO_URL)
the operations really overlap on the connection pool.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.mongo.support import mongo_repositories
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, VersionConflictError
from usercore.domain.listing import UserQuery
from usercore.domain.passwords import PasswordPolicy
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.services.passwords import PasswordRules
from usercore.services.users import UserService
from usercore.testing import (
    FastTestHasher,
    FixedStrengthEstimator,
    ManualClock,
    Repositories,
    SequentialIds,
)

pytestmark = pytest.mark.mongo

#: Far enough ahead that the sessions' TTL index never purges them mid-test.
NOW = datetime(2100, 1, 1, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
async def repositories() -> AsyncIterator[Repositories]:
    async with mongo_repositories() as repositories:
        yield repositories


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def service(repositories: Repositories, clock: ManualClock) -> UserService:
    return UserService(
        users=repositories.users,
        hasher=FastTestHasher(),
        policy=PasswordRules(policy=PasswordPolicy(), estimator=FixedStrengthEstimator()),
        clock=clock,
        ids=SequentialIds(clock),
        throttle=None,
    )


async def _warm_pool(repositories: Repositories, connections: int) -> None:
    # A cold pool opens a few connections at a time (pymongo's maxConnecting
    # is 2), so the first operations would queue for connections instead of
    # racing on the server, and on a slow link hit the timeout.
    await asyncio.gather(*(repositories.users.ping() for _ in range(connections)))
    await repositories.users.get_by_email(Email("warm@example.com"))  # the schema check, once


def _letter_cases(address: str, count: int) -> list[str]:
    letters = [i for i, char in enumerate(address) if char.isalpha()]
    variants = []
    for n in range(count):
        chars = list(address)
        for bit, index in enumerate(letters):
            if n >> bit & 1:
                chars[index] = chars[index].upper()
        variants.append("".join(chars))
    return variants


async def test_100_concurrent_registrations_of_one_email_create_exactly_one_user(
    service: UserService, repositories: Repositories
) -> None:
    emails = _letter_cases("ada.lovelace@example.com", 100)
    assert len(set(emails)) == 100
    await _warm_pool(repositories, 100)
    results = await asyncio.gather(
        *(service.register(email=email, password=PASSWORD) for email in emails),
        return_exceptions=True,
    )
    created = [result for result in results if isinstance(result, User)]
    refused = [result for result in results if isinstance(result, EmailTakenError)]
    assert len(created) == 1
    assert len(refused) == 99
    page = await repositories.users.list(UserQuery(limit=100))
    assert [user.id for user in page.items] == [created[0].id]


async def test_50_concurrent_updates_at_one_version_let_exactly_one_win(
    service: UserService, repositories: Repositories, clock: ManualClock
) -> None:
    user = await service.register(email="grace@example.com", password=PASSWORD)
    changes = [user.with_profile(now=clock.now(), name=f"name {n}") for n in range(50)]
    results = await asyncio.gather(
        *(repositories.users.update(change, expected_version=1) for change in changes),
        return_exceptions=True,
    )
    winners = [change for change, result in zip(changes, results, strict=True) if result is None]
    assert len(winners) == 1
    assert all(isinstance(result, VersionConflictError) for result in results if result is not None)
    assert await repositories.users.get(user.id) == winners[0]


async def test_20_concurrent_rotations_of_one_session_let_exactly_one_win(
    service: UserService, repositories: Repositories, clock: ManualClock
) -> None:
    user = await service.register(email="hopper@example.com", password=PASSWORD)
    session = Session.start(
        id="0193e2a0-0000-7000-8000-000000000001",
        user_id=user.id,
        token_hash="h0",
        now=clock.now(),
        expires_at=clock.now() + timedelta(days=30),
        epoch=user.credential_epoch,
    )
    await repositories.sessions.add(session)
    now = clock.advance()
    rotations = [
        session.rotated(token_hash=f"h1-{n}", now=now, expires_at=session.expires_at)
        for n in range(20)
    ]
    results = await asyncio.gather(
        *(repositories.sessions.rotate(session, rotated) for rotated in rotations)
    )
    assert results.count(True) == 1
    assert await repositories.sessions.get(session.id) == rotations[results.index(True)]
