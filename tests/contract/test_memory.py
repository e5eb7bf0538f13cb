"""The contract suites and the state machine on the in-memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from usercore.adapters.memory import (
    InMemoryEventLog,
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryThrottleStore,
    InMemoryUserRepository,
)
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


@asynccontextmanager
async def memory_repositories() -> AsyncIterator[Repositories]:
    store = InMemoryStore()
    yield Repositories(
        users=InMemoryUserRepository(store),
        sessions=InMemorySessionRepository(store),
        events=InMemoryEventLog(store),
    )


class MemoryBackend:
    @pytest.fixture
    async def repositories(self) -> AsyncIterator[Repositories]:
        async with memory_repositories() as repositories:
            yield repositories


class TestMemoryUsers(MemoryBackend, UserRepositoryContract):
    pass


class TestMemoryEvents(MemoryBackend, EventLogContract):
    pass


class TestMemorySessions(MemoryBackend, SessionRepositoryContract):
    pass


class TestMemoryThrottle(ThrottleStoreContract):
    @pytest.fixture
    def throttle_store(self) -> ThrottleStore:
        return InMemoryThrottleStore()


class MemoryMachine(UserLifecycleMachine):
    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        return memory_repositories()


TestMemoryMachine = MemoryMachine.TestCase


class MemoryDeliveryMachine(OutboxDeliveryMachine):
    def open_repositories(self) -> AbstractAsyncContextManager[Repositories]:
        return memory_repositories()


TestMemoryDeliveryMachine = MemoryDeliveryMachine.TestCase


@asynccontextmanager
async def memory_throttle_store() -> AsyncIterator[ThrottleStore]:
    yield InMemoryThrottleStore()


class MemoryThrottleMachine(ThrottleStoreMachine):
    def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
        return memory_throttle_store()


TestMemoryThrottleMachine = MemoryThrottleMachine.TestCase
