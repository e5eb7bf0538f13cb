"""A real Redis server for the Redis adapter's tests, each test under a key prefix of its own.

Without a server the tests skip, printing why; with
``USERCORE_REQUIRE_REDIS=1`` (as in CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from usercore.adapters.redis import RedisThrottleStore, redis_client

REDIS_URL = os.environ.get("USERCORE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("USERCORE_REQUIRE_REDIS", "") not in ("", "0")


def redis_unavailable_reason() -> str | None:
    """Why the Redis tests can't run here, or None when they can."""

    async def probe() -> None:
        client = redis_client(REDIS_URL, timeout_seconds=3)
        try:
            await client.ping()
        finally:
            await client.aclose()

    try:
        asyncio.run(probe())
    except (RedisError, OSError) as exc:
        return f"no Redis server at {REDIS_URL} ({type(exc).__name__}: {exc})"
    return None


def require_redis() -> None:
    """Skip (or, with USERCORE_REQUIRE_REDIS set, fail) when there is no server."""
    reason = redis_unavailable_reason()
    if reason is None:
        return
    if REQUIRE_REDIS:
        pytest.fail(f"{reason}; USERCORE_REQUIRE_REDIS is set", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test server's URL, once it has answered."""
    require_redis()
    return REDIS_URL


def unique_prefix() -> str:
    """A key prefix no other test (or run) uses."""
    return f"usercore-test:{secrets.token_hex(8)}:"


async def delete_prefixed(client: Redis, prefix: str) -> None:
    """Delete every key under ``prefix`` (the prefixes tests make have no glob characters)."""
    async for key in client.scan_iter(match=prefix + "*", count=500):
        await client.delete(key)


@asynccontextmanager
async def redis_throttle_store(
    url: str, *, prefix: str | None = None
) -> AsyncIterator[RedisThrottleStore]:
    """A throttle store under a fresh prefix; its keys are deleted and its client closed on exit."""
    prefix = prefix or unique_prefix()
    client = redis_client(url)
    try:
        yield RedisThrottleStore(client, prefix=prefix)
    finally:
        try:
            await delete_prefixed(client, prefix)
        finally:
            await client.aclose()
