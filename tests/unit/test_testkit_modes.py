"""The shipped contract suites run in a project under strict and auto asyncio modes alike."""

from __future__ import annotations

import pytest

USER_PROJECT_TEST = """
from contextlib import asynccontextmanager

import pytest_asyncio

from usercore.adapters.memory import (
    InMemoryEventLog,
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryThrottleStore,
    InMemoryUserRepository,
)
from usercore.testing import (
    Repositories,
    SessionRepositoryContract,
    ThrottleStoreContract,
    UserRepositoryContract,
)


class MyBackend:
    @pytest_asyncio.fixture
    async def repositories(self):
        store = InMemoryStore()
        yield Repositories(
            users=InMemoryUserRepository(store),
            sessions=InMemorySessionRepository(store),
            events=InMemoryEventLog(store),
        )


class TestMyUsers(MyBackend, UserRepositoryContract):
    pass


class TestMySessions(MyBackend, SessionRepositoryContract):
    pass


class TestMyThrottle(ThrottleStoreContract):
    @pytest_asyncio.fixture
    async def throttle_store(self):
        yield InMemoryThrottleStore()
"""


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_contract_suites_run_in_either_mode(pytester: pytest.Pytester, mode: str) -> None:
    pytester.makepyfile(test_my_backend=USER_PROJECT_TEST)
    result = pytester.runpytest_subprocess(f"--asyncio-mode={mode}", "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=result.parseoutcomes()["passed"])
    assert result.parseoutcomes()["passed"] >= 40
    assert "error" not in result.parseoutcomes()
