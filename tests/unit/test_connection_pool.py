"""ConnectionPool: bounded, most recently used first, fair to waiters, never leaking a slot."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from usercore.adapters.sqlalchemy.connections import ConnectionPool, PoolClosedError


class FakeConnection:
    def __init__(self, number: int) -> None:
        self.number = number
        self.closed = False
        self.terminated = False

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = self.terminated = True

    async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg's
        self.closed = True


class FakeServer:
    """Hands out numbered connections, after refusing the next ``refusals`` attempts."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1)
        self.made: list[FakeConnection] = []
        self.refusals = 0

    async def connect(self) -> FakeConnection:
        await asyncio.sleep(0)
        if self.refusals:
            self.refusals -= 1
            raise ConnectionRefusedError("no")
        connection = FakeConnection(next(self.numbers))
        self.made.append(connection)
        return connection

    def pool(self, max_size: int = 2, idle_seconds: float = 60) -> ConnectionPool[FakeConnection]:
        return ConnectionPool(self.connect, max_size=max_size, idle_seconds=idle_seconds)


async def test_reuses_the_most_recently_released_connection() -> None:
    server = FakeServer()
    pool = server.pool()
    first, second = await pool.acquire(1), await pool.acquire(1)
    pool.release(first)
    pool.release(second)
    assert await pool.acquire(1) is second
    assert await pool.acquire(1) is first
    assert (pool.size, len(server.made)) == (2, 2)


async def test_never_opens_more_than_max_size_and_serves_waiters_in_order() -> None:
    server = FakeServer()
    pool = server.pool(max_size=2)
    held = [await pool.acquire(1), await pool.acquire(1)]
    waiting = [asyncio.ensure_future(pool.acquire(1)) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(task.done() for task in waiting)
    pool.release(held[0])
    pool.release(held[1])
    assert [await waiting[0], await waiting[1]] == held
    assert not waiting[2].done()
    pool.release(held[0])
    assert await waiting[2] is held[0]
    assert len(server.made) == 2


async def test_a_wait_that_runs_out_raises_timeout_and_leaks_nothing() -> None:
    server = FakeServer()
    pool = server.pool(max_size=1)
    held = await pool.acquire(1)
    with pytest.raises(TimeoutError):
        await pool.acquire(0.01)
    pool.release(held)
    assert await pool.acquire(0.01) is held
    assert (pool.size, pool.idle) == (1, 0)


async def test_a_cancelled_waiter_hands_on_what_it_was_given() -> None:
    server = FakeServer()
    pool = server.pool(max_size=1)
    held = await pool.acquire(1)
    waiter = asyncio.ensure_future(pool.acquire(1))
    await asyncio.sleep(0)
    pool.release(held)  # handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.idle == 1
    assert await pool.acquire(0.01) is held


async def test_a_discarded_connection_frees_its_slot_for_a_fresh_one() -> None:
    server = FakeServer()
    pool = server.pool(max_size=1)
    broken = await pool.acquire(1)
    waiter = asyncio.ensure_future(pool.acquire(1))
    await asyncio.sleep(0)
    pool.discard(broken)
    fresh = await waiter
    assert broken.terminated
    assert fresh is not broken
    assert (pool.size, len(server.made)) == (1, 2)


async def test_a_failed_connect_gives_its_slot_back() -> None:
    server = FakeServer()
    pool = server.pool(max_size=1)
    server.refusals = 1
    with pytest.raises(ConnectionRefusedError):
        await pool.acquire(1)
    assert pool.size == 0
    assert (await pool.acquire(1)).number == 1


async def test_a_waiter_given_a_slot_connects_and_a_failure_passes_the_slot_on() -> None:
    server = FakeServer()
    pool = server.pool(max_size=1)
    broken = await pool.acquire(1)
    first = asyncio.ensure_future(pool.acquire(1))
    second = asyncio.ensure_future(pool.acquire(1))
    await asyncio.sleep(0)
    server.refusals = 1
    pool.discard(broken)
    with pytest.raises(ConnectionRefusedError):
        await first
    assert (await second).number == 2
    assert pool.size == 1


async def test_a_connection_closed_while_idle_is_skipped() -> None:
    server = FakeServer()
    pool = server.pool(max_size=2)
    connection = await pool.acquire(1)
    pool.release(connection)
    connection.closed = True  # the server went away meanwhile
    fresh = await pool.acquire(1)
    assert fresh is not connection
    assert pool.size == 1


async def test_closes_connections_left_idle_for_idle_seconds() -> None:
    # Polls rather than sleeping fixed times: a loaded machine stretches sleeps.
    server = FakeServer()
    pool = server.pool(max_size=2, idle_seconds=0.05)
    busy, quiet = await pool.acquire(1), await pool.acquire(1)
    pool.release(quiet)
    await _until(lambda: quiet.closed)
    assert not busy.closed  # in use: never closed for idling
    assert (pool.size, pool.idle) == (1, 0)
    pool.release(busy)
    assert not busy.closed  # just released: it has not idled yet
    assert (pool.size, pool.idle) == (1, 1)
    await _until(busy.is_closed)
    assert pool.size == 0


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - the pool signals nothing to wait on
            await asyncio.sleep(0.01)


async def test_close_closes_idle_connections_fails_waiters_and_cuts_the_rest() -> None:
    server = FakeServer()
    pool = server.pool(max_size=2)
    in_use, idle = await pool.acquire(1), await pool.acquire(1)
    pool.release(idle)
    blocked_pool = server.pool(max_size=1)
    holder = await blocked_pool.acquire(1)
    waiter = asyncio.ensure_future(blocked_pool.acquire(1))
    await asyncio.sleep(0)
    await blocked_pool.close(1)
    with pytest.raises(PoolClosedError):
        await waiter
    blocked_pool.release(holder)
    assert holder.terminated
    await pool.close(1)
    assert idle.closed
    assert not idle.terminated
    assert not in_use.closed
    pool.release(in_use)
    assert in_use.terminated
    assert pool.size == 0
    with pytest.raises(PoolClosedError):
        await pool.acquire(1)


def test_needs_room_for_one_connection() -> None:
    with pytest.raises(ValueError, match="max_size"):
        ConnectionPool(FakeServer().connect, max_size=0, idle_seconds=1)
