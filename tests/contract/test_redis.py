"""The throttle store contract on Redis: a real server, each test under its own key prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

from tests.integration.redis.support import redis_throttle_store, redis_url
from usercore.ports.throttle import ThrottleStore
from usercore.testing import ThrottleStoreContract
from usercore.testing.throttle_machine import ThrottleStoreMachine

__all__ = ["redis_url"]  # a session fixture, shared with this module

pytestmark = pytest.mark.redis


class TestRedisThrottle(ThrottleStoreContract):
    @pytest.fixture
    async def throttle_store(self, redis_url: str) -> AsyncIterator[ThrottleStore]:
        async with redis_throttle_store(redis_url) as store:
            yield store


def test_redis_throttle_machine(redis_url: str) -> None:
    class RedisThrottleMachine(ThrottleStoreMachine):
        def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
            return redis_throttle_store(redis_url)

    RedisThrottleMachine.TestCase().runTest()
