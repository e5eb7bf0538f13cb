"""The ThrottleStore contract: every adapter must pass exactly these tests."""

from __future__ import annotations

import asyncio
import string
from datetime import datetime, timedelta

import pytest

from usercore.domain.throttle import ThrottleState
from usercore.ports.throttle import ThrottleStore
from usercore.testing.contract.base import EPOCH

#: How long the suite's records are kept unless a test says otherwise.
KEEP = timedelta(hours=1)
#: Enough concurrent calls to interleave on every backend, few enough for a small pool.
CONCURRENT_FAILURES = 50


def _at(seconds: float) -> datetime:
    # Around EPOCH (in 2100), so stores that expire records by their own
    # wall clock (Redis, MongoDB's TTL index) keep the suite's records.
    return EPOCH + timedelta(seconds=seconds)


class ThrottleStoreContract:
    """Subclass with a ``throttle_store`` fixture that yields a `ThrottleStore` over empty storage.

    Example::

        class TestMyThrottle(ThrottleStoreContract):
            @pytest_asyncio.fixture
            async def throttle_store(self):
                async with my_backend() as store:
                    yield store
    """

    # Marked, so the suite runs under pytest-asyncio's strict mode as well as auto mode.
    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    def key(self) -> str:
        """A key shaped like the ones the login throttle makes (an HMAC-SHA256 hex digest)."""
        return "5f" * 32

    async def _fail(self, store: ThrottleStore, key: str, seconds: float) -> ThrottleState:
        return await store.record_failure(key, now=_at(seconds), expires_at=_at(seconds) + KEEP)

    async def test_get_of_a_fresh_key_is_none(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        assert await throttle_store.get(key) is None

    async def test_the_first_failure_creates_a_record_of_one_failure(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        expected = ThrottleState(failures=1, last_failure_at=_at(0.125))
        assert await self._fail(throttle_store, key, 0.125) == expected
        stored = await throttle_store.get(key)
        assert stored == expected
        assert stored is not None
        assert stored.last_failure_at.utcoffset() == timedelta(0)

    async def test_failures_count_up_and_remember_the_latest(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        for count in range(1, 8):
            state = await self._fail(throttle_store, key, count * 1.5)
            assert state == ThrottleState(failures=count, last_failure_at=_at(count * 1.5))
        assert await throttle_store.get(key) == ThrottleState(failures=7, last_failure_at=_at(10.5))

    async def test_concurrent_failures_are_each_counted_exactly_once(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        await self._fail(throttle_store, key, 0)
        states = await asyncio.gather(
            *(self._fail(throttle_store, key, 1) for _ in range(CONCURRENT_FAILURES))
        )
        counts = sorted(state.failures for state in states)
        assert counts == list(range(2, CONCURRENT_FAILURES + 2))
        stored = await throttle_store.get(key)
        assert stored == ThrottleState(failures=CONCURRENT_FAILURES + 1, last_failure_at=_at(1))

    async def test_concurrent_first_failures_create_one_record(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        states = await asyncio.gather(
            *(self._fail(throttle_store, key, 0) for _ in range(CONCURRENT_FAILURES))
        )
        assert sorted(state.failures for state in states) == list(range(1, CONCURRENT_FAILURES + 1))

    async def test_clear_forgets_the_key_and_the_next_failure_starts_over(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        for seconds in range(3):
            await self._fail(throttle_store, key, seconds)
        await throttle_store.clear(key)
        assert await throttle_store.get(key) is None
        await throttle_store.clear(key)  # clearing nothing is fine
        assert (await self._fail(throttle_store, key, 9)).failures == 1

    async def test_keys_are_independent(self, throttle_store: ThrottleStore) -> None:
        keys = ["a" * 64, "b" * 64, "a" * 63, "A" * 64]
        for repeat, key in enumerate(keys, start=1):
            for _ in range(repeat):
                await self._fail(throttle_store, key, repeat)
        await throttle_store.clear(keys[1])
        found = [await throttle_store.get(key) for key in keys]
        assert [None if s is None else s.failures for s in found] == [1, None, 3, 4]

    async def test_any_printable_ascii_key_is_its_own_key(
        self, throttle_store: ThrottleStore
    ) -> None:
        # Glob and separator characters must not reach a pattern unescaped.
        odd = ["*", "?", "[a-z]", "\\", "x:y", string.punctuation, "k" * 200]
        for key in odd:
            await self._fail(throttle_store, key, 0)
        for key in odd:
            assert await throttle_store.get(key) == ThrottleState(1, _at(0))
        assert await throttle_store.get("a") is None
        assert await throttle_store.purge(now=_at(0) + KEEP) == len(odd)

    async def test_purge_drops_exactly_the_expired_records(
        self, throttle_store: ThrottleStore
    ) -> None:
        await throttle_store.record_failure("short", now=_at(0), expires_at=_at(10))
        await throttle_store.record_failure("long", now=_at(0), expires_at=_at(1000))
        assert await throttle_store.purge(now=_at(5)) == 0
        assert await throttle_store.purge(now=_at(10)) == 1
        assert await throttle_store.get("short") is None
        assert await throttle_store.get("long") == ThrottleState(1, _at(0))
        assert await throttle_store.purge(now=_at(10)) == 0

    async def test_a_record_is_kept_and_counted_until_it_expires(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        await throttle_store.record_failure(key, now=_at(0), expires_at=_at(10))
        just_before = _at(10) - timedelta(milliseconds=1)
        assert await throttle_store.purge(now=just_before) == 0
        state = await throttle_store.record_failure(key, now=just_before, expires_at=_at(11))
        assert state.failures == 2
        assert await throttle_store.get(key) == ThrottleState(2, just_before)

    async def test_a_failure_once_the_record_expired_starts_over(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        await throttle_store.record_failure(key, now=_at(0), expires_at=_at(10))
        await throttle_store.record_failure(key, now=_at(1), expires_at=_at(10))
        state = await throttle_store.record_failure(key, now=_at(10), expires_at=_at(20))
        assert state == ThrottleState(1, _at(10))
        # The restarted record lives until its new expiry.
        assert await throttle_store.purge(now=_at(15)) == 0
        assert await throttle_store.get(key) == state

    async def test_times_never_move_backwards(
        self, throttle_store: ThrottleStore, key: str
    ) -> None:
        await throttle_store.record_failure(key, now=_at(50), expires_at=_at(100))
        # A caller whose clock is behind: counted, but the times stay.
        state = await throttle_store.record_failure(key, now=_at(40), expires_at=_at(90))
        assert state == ThrottleState(2, _at(50))
        assert await throttle_store.purge(now=_at(95)) == 0
        assert await throttle_store.get(key) == state

    async def test_purge_with_nothing_stored_drops_nothing(
        self, throttle_store: ThrottleStore
    ) -> None:
        assert await throttle_store.purge(now=_at(0)) == 0
