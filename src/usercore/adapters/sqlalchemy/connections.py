"""A small pool of database connections, shaped for one short statement per checkout.

asyncpg's own pool is general: it shields every release in a new task, resets
sessions, re-arms an inactivity timer per checkout and waits with
``asyncio.wait_for``. Measured on a primary-key read that is as much CPU as
the statement itself (~60 us). Here a checkout is a list pop and a release a
list append when a connection is free; only a caller that has to wait for one
pays for a future and a timer.

Connections are kept most-recently-used first, so a quiet spell lets the ones
at the bottom of the stack sit idle long enough to be closed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar


class Connection(Protocol):
    """What the pool needs of a connection (asyncpg's ``Connection`` has it)."""

    def is_closed(self) -> bool:
        """True once the connection can't be used any more."""
        ...

    def terminate(self) -> None:
        """Close at once, without telling the server."""
        ...

    async def close(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg's
        """Close gracefully."""
        ...


C = TypeVar("C", bound=Connection)


class PoolClosedError(Exception):
    """The pool was closed while waiting for a connection, or before."""


class ConnectionPool(Generic[C]):
    """At most ``max_size`` connections, opened on demand, closed after ``idle_seconds`` unused.

    Every connection :meth:`acquire` returns must go back through
    :meth:`release` (it is fine to use) or :meth:`discard` (its state is
    unknown: cut, timed out or cancelled mid-statement).
    """

    def __init__(
        self, connect: Callable[[], Awaitable[C]], *, max_size: int, idle_seconds: float
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._connect = connect
        self._max_size = max_size
        self._idle_seconds = idle_seconds
        self._idle: collections.deque[tuple[C, float]] = collections.deque()  # oldest first
        self._open = 0  # connections open or being opened: the bound applies to these
        # A waiter's future gets a released connection, or None: "a slot is yours, connect".
        self._waiters: collections.deque[asyncio.Future[C | None]] = collections.deque()
        self._sweep: asyncio.TimerHandle | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open (idle or in use) or being opened."""
        return self._open

    @property
    def idle(self) -> int:
        """Connections open and waiting for a checkout."""
        return len(self._idle)

    async def acquire(self, max_wait: float) -> C:
        """A connection for the caller alone, waiting at most ``max_wait`` seconds for one.

        Only waiting is bounded here (a free connection costs no timer);
        connecting is bounded by the connect function's own timeout.

        Raises:
            TimeoutError: None came free in time.
            PoolClosedError: The pool is closed.
            Exception: Whatever connecting raised (its slot is freed again).
        """
        if self._closed:
            raise PoolClosedError
        while self._idle:
            connection, _ = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._open -= 1
        if self._open < self._max_size:
            self._open += 1
            return await self._connect_in_slot()
        return await self._wait(max_wait)

    def release(self, connection: C) -> None:
        """Give back a connection that is fit for the next statement."""
        if self._closed or connection.is_closed():
            self.discard(connection)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        loop = asyncio.get_running_loop()
        self._idle.append((connection, loop.time()))
        if self._sweep is None:
            self._sweep = loop.call_later(self._idle_seconds, self._close_stale)

    def discard(self, connection: C) -> None:
        """Drop a connection whose state is unknown; a waiter may connect in its place."""
        connection.terminate()
        self._slot_freed()

    async def close(self, grace: float) -> None:
        """Close the idle connections (and those in use once released); fail the waiters.

        Each idle connection gets ``grace`` seconds to close politely, then is cut.
        """
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosedError())
        idle = [connection for connection, _ in self._idle]
        self._idle.clear()
        self._open -= len(idle)
        await asyncio.gather(*(_close(c, grace) for c in idle), *self._closing)

    async def _wait(self, max_wait: float) -> C:
        waiter: asyncio.Future[C | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(max_wait):
                handed = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # Handed a connection or a slot just as the wait ended: pass it on.
                handed = waiter.result()
                if handed is None:
                    self._slot_freed()
                else:
                    self.release(handed)
            raise
        if handed is None:  # _slot_freed counted the slot for us
            return await self._connect_in_slot()
        return handed

    async def _connect_in_slot(self) -> C:
        try:
            return await self._connect()
        except BaseException:
            self._slot_freed()
            raise

    def _slot_freed(self) -> None:
        """One connection fewer: the slot goes to the first live waiter, if any."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1

    def _close_stale(self) -> None:
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - self._idle_seconds
        while self._idle and self._idle[0][1] <= cutoff:
            connection, _ = self._idle.popleft()
            self._open -= 1
            task = loop.create_task(_close(connection, self._idle_seconds))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        self._sweep = None
        if self._idle:
            delay = self._idle[0][1] + self._idle_seconds - loop.time()
            self._sweep = loop.call_later(max(delay, 0.0), self._close_stale)


async def _close(connection: Connection, grace: float) -> None:
    """Close politely (the server logs no broken connection); cut it if that fails."""
    try:
        await connection.close(timeout=grace)
    except Exception:  # noqa: BLE001 - whatever went wrong, the connection must go
        connection.terminate()
    with contextlib.suppress(Exception):
        if not connection.is_closed():
            connection.terminate()
