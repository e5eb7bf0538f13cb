"""The contract suites and the state machine on the MongoDB adapter.

On mongomock-motor by default; against a real server when
``USERCORE_TEST_MONGO_URL`` is set (each test in a database of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import pytest

from tests.integration.mongo.support import mongo_repositories
from usercore.testing import (
    RecordFactory,
    Repositories,
    SessionRepositoryContract,
    UserRepositoryContract,
)
from usercore.testing.machine import UserLifecycleMachine

pytestmark = pytest.mark.mongo

#: The TTL index makes the server purge sessions whose ``expires_at`` has
#: passed by the wall clock (mongomock-motor at once, a real server within a
#: minute). The suites' records live around a fixed date that is already past,
#: so here they are built around a moment the wall clock will not reach.
FUTURE_EPOCH = datetime(2100, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


class MongoBackend:
    @pytest.fixture
    def make(self) -> RecordFactory:
        factory = RecordFactory()
        factory.clock.set(FUTURE_EPOCH)
        return factory

    @pytest.fixture
    async def repositories(self) -> AsyncIterator[Repositories]:
        async with mongo_repositories() as repositories:
            yield repositories


class TestMongoUsers(MongoBackend, UserRepositoryContract):
    pass


class TestMongoSessions(MongoBackend, SessionRepositoryContract):
    pass


class MongoMachine(UserLifecycleMachine):
    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        return mongo_repositories()


TestMongoMachine = MongoMachine.TestCase
