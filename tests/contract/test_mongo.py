"""The contract suites and the state machine on the MongoDB adapter.

On mongomock-motor by default; against a real server when
``USERCORE_TEST_MONGO_URL`` is set (each test in a database of its own).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

from tests.integration.mongo.support import mongo_repositories, mongo_throttle_store
from usercore.ports.throttle import ThrottleStore
from usercore.testing import (
    EventLogContract,
    Repositories,
    SessionRepositoryContract,
    ThrottleStoreContract,
    UserRepositoryContract,
)
from usercore.testing.event_machine import OutboxDeliveryMachine
from usercore.testing.machine import UserLifecycleMachine
from usercore.testing.throttle_machine import ThrottleStoreMachine

pytestmark = pytest.mark.mongo


class MongoBackend:
    @pytest.fixture
    async def repositories(self) -> AsyncIterator[Repositories]:
        async with mongo_repositories() as repositories:
            yield repositories


class TestMongoUsers(MongoBackend, UserRepositoryContract):
    pass


class TestMongoEvents(MongoBackend, EventLogContract):
    pass


class TestMongoSessions(MongoBackend, SessionRepositoryContract):
    pass


class TestMongoThrottle(ThrottleStoreContract):
    @pytest.fixture
    async def throttle_store(self) -> AsyncIterator[ThrottleStore]:
        async with mongo_throttle_store() as store:
            yield store


class MongoMachine(UserLifecycleMachine):
    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        return mongo_repositories()


TestMongoMachine = MongoMachine.TestCase


class MongoDeliveryMachine(OutboxDeliveryMachine):
    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        return mongo_repositories()


TestMongoDeliveryMachine = MongoDeliveryMachine.TestCase


class MongoThrottleMachine(ThrottleStoreMachine):
    def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
        return mongo_throttle_store()


TestMongoThrottleMachine = MongoThrottleMachine.TestCase
