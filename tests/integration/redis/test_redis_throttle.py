"""The Redis throttle store on a real server: expiry, processes, prefixes and failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.redis.support import (
    delete_prefixed,
    redis_throttle_store,
    redis_url,
    unique_prefix,
)
from usercore.adapters.redis import DEFAULT_PREFIX, RedisThrottleStore, redis_client
from usercore.config import Settings
from usercore.container import build_container, resolve, start_resources, stop_resources
from usercore.ports.errors import StorageUnavailableError
from usercore.testing.contract import EPOCH

__all__ = ["redis_url"]

pytestmark = pytest.mark.redis

HOUR = timedelta(hours=1)


async def test_a_record_expires_at_its_expiry_on_the_servers_clock(redis_url: str) -> None:
    prefix = unique_prefix()
    async with redis_throttle_store(redis_url, prefix=prefix) as store:
        await store.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
        client = redis_client(redis_url)
        try:
            expiry = await client.pexpiretime(prefix + "k")
            assert expiry == int((EPOCH + HOUR).timestamp() * 1000)
        finally:
            await client.aclose()
        now = datetime.now(UTC)
        await store.record_failure("soon", now=now, expires_at=now + timedelta(milliseconds=50))
        await asyncio.sleep(0.2)
        assert await store.get("soon") is None
        assert await store.get("k") is not None


async def test_clients_of_separate_processes_count_every_failure_once(redis_url: str) -> None:
    prefix = unique_prefix()
    async with (
        redis_throttle_store(redis_url, prefix=prefix) as first,
        redis_throttle_store(redis_url, prefix=prefix) as second,
    ):
        stores = [first, second]
        states = await asyncio.gather(
            *(
                stores[i % 2].record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
                for i in range(60)
            )
        )
    assert sorted(state.failures for state in states) == list(range(1, 61))


async def test_a_prefix_keeps_the_store_to_its_own_keys(redis_url: str) -> None:
    client = redis_client(redis_url)
    neighbour = unique_prefix()
    try:
        await client.set(neighbour + "k", "the host application's")
        async with redis_throttle_store(redis_url) as store:
            assert await store.get("k") is None
            await store.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
            assert await store.purge(now=EPOCH + 2 * HOUR) == 1
        assert await client.get(neighbour + "k") == b"the host application's"
    finally:
        await delete_prefixed(client, neighbour)
        await client.aclose()


async def test_a_prefix_with_glob_characters_purges_only_its_own_keys(redis_url: str) -> None:
    base = unique_prefix()
    async with (
        redis_throttle_store(redis_url, prefix=base + "[a]*") as odd,
        redis_throttle_store(redis_url, prefix=base + "a") as plain,
    ):
        await odd.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
        await plain.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
        assert await odd.purge(now=EPOCH + 2 * HOUR) == 1
        assert await plain.get("k") is not None
        client = redis_client(redis_url)
        try:
            await client.delete(base + "[a]*k")  # the cleanup's pattern can't name it
        finally:
            await client.aclose()


async def test_an_unreachable_server_is_storage_unavailable_without_naming_it() -> None:
    client = redis_client("redis://127.0.0.1:9/0", timeout_seconds=1)
    store = RedisThrottleStore(client, timeout_seconds=1)
    try:
        with pytest.raises(StorageUnavailableError) as raised:
            await store.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
        assert "127.0.0.1" not in str(raised.value)
        for call in (store.get("k"), store.clear("k"), store.purge(now=EPOCH)):
            with pytest.raises(StorageUnavailableError):
                await call
    finally:
        await client.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A port that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_never_answers_fails_within_the_time_bound(silent_server: int) -> None:
    client = redis_client(f"redis://127.0.0.1:{silent_server}/0", timeout_seconds=0.3)
    store = RedisThrottleStore(client, timeout_seconds=0.3)
    try:
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError, match=r"no answer within 0\.3 s"):
            await store.record_failure("k", now=EPOCH, expires_at=EPOCH + HOUR)
        assert time.monotonic() - started < 2
    finally:
        await client.aclose()


async def test_the_container_keeps_the_counts_in_redis_when_throttle_url_is_set(
    redis_url: str, tmp_path: Path
) -> None:
    settings = Settings.load(
        {"database_url": "memory://", "data_dir": tmp_path, "throttle_url": redis_url}, environ={}
    )
    container = build_container(settings)
    await start_resources(container)
    try:
        assert isinstance(await resolve(container.throttle_store()), RedisThrottleStore)
        throttle = await resolve(container.login_throttle())
        email = f"{unique_prefix().replace(':', '')}@example.com"
        try:
            assert await throttle.record_failure(email=email) == 0
            client = redis_client(redis_url)
            try:
                stored = await client.hget(DEFAULT_PREFIX + throttle.key_for(email), "f")
            finally:
                await client.aclose()
            assert stored == b"1"
        finally:
            await throttle.clear(email=email)
    finally:
        await stop_resources(container)
