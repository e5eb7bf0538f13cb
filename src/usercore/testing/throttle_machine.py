"""The throttle-store state machine: a store against a plain dict model, after every step.

Subclass :class:`ThrottleStoreMachine` once per backend, implement
:meth:`~ThrottleStoreMachine.open_store`, and collect its ``TestCase``::

    class MyThrottleMachine(ThrottleStoreMachine):
        def open_store(self):
            return my_throttle_store()   # an async context manager

    TestMyThrottleMachine = MyThrottleMachine.TestCase
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from usercore.domain.throttle import ThrottleState
from usercore.ports.throttle import ThrottleStore
from usercore.testing.contract.base import EPOCH

#: Few keys, so that steps keep meeting the same records; one with glob characters.
KEYS = ("a" * 64, "b" * 64, "c*?[x]", "d")


@attrs.frozen
class ModelRecord:
    """What the model expects the store to hold for one key."""

    failures: int
    last_failure_at: datetime
    expires_at: datetime


class ThrottleStoreMachine(RuleBasedStateMachine):
    """Counts failures (some concurrently), clears, purges, and moves a clock that may go back.

    After every step each key's record must equal the model's. The clock
    stays around the suite's epoch (in 2100), so a store that expires
    records on its own clock keeps them.
    """

    def __init__(self) -> None:
        super().__init__()
        self._runner = asyncio.Runner()
        self._stack = AsyncExitStack()
        self.store: ThrottleStore = self.run(self._stack.enter_async_context(self.open_store()))
        self.now = EPOCH
        self.model: dict[str, ModelRecord] = {}

    def open_store(self) -> AbstractAsyncContextManager[ThrottleStore]:
        """An async context manager yielding a throttle store over empty storage."""
        raise NotImplementedError

    def run(self, awaitable: Any) -> Any:
        """Run a coroutine on this machine's event loop."""
        return self._runner.run(awaitable)

    def teardown(self) -> None:
        """Close the store and the machine's event loop."""
        try:
            self.run(self._stack.aclose())
        finally:
            self._runner.close()

    @rule(
        key=st.sampled_from(KEYS),
        keep_ms=st.integers(1, 120_000),
        calls=st.integers(1, 5),
    )
    def record_failure(self, key: str, keep_ms: int, calls: int) -> None:
        """Count ``calls`` concurrent failures; each gets its own count."""
        expires_at = self.now + timedelta(milliseconds=keep_ms)
        states = self.run(self._record(key, expires_at, calls))
        before = self.model.get(key)
        first = 1 if before is None or before.expires_at <= self.now else before.failures + 1
        assert sorted(state.failures for state in states) == list(range(first, first + calls))
        if first == 1:
            self.model[key] = ModelRecord(calls, self.now, expires_at)
        else:
            assert before is not None
            self.model[key] = ModelRecord(
                before.failures + calls,
                max(before.last_failure_at, self.now),
                max(before.expires_at, expires_at),
            )

    async def _record(self, key: str, expires_at: datetime, calls: int) -> list[ThrottleState]:
        return list(
            await asyncio.gather(
                *(
                    self.store.record_failure(key, now=self.now, expires_at=expires_at)
                    for _ in range(calls)
                )
            )
        )

    @rule(key=st.sampled_from(KEYS))
    def clear(self, key: str) -> None:
        """Forget one key."""
        self.run(self.store.clear(key))
        self.model.pop(key, None)

    @rule()
    def purge(self) -> None:
        """Drop the records expired by now; exactly those."""
        expired = [key for key, record in self.model.items() if record.expires_at <= self.now]
        assert self.run(self.store.purge(now=self.now)) == len(expired)
        for key in expired:
            del self.model[key]

    @rule(ms=st.integers(-5_000, 90_000))
    def move_clock(self, ms: int) -> None:
        """Time passes; now and then the clock of the next caller is a little behind."""
        self.now += timedelta(milliseconds=ms)

    @invariant()
    def every_record_matches_the_model(self) -> None:
        """Each key reads back exactly as the model says (absent keys as None)."""
        for key in KEYS:
            expected = self.model.get(key)
            stored = self.run(self.store.get(key))
            if expected is None:
                assert stored is None, key
            else:
                assert stored == ThrottleState(expected.failures, expected.last_failure_at), key
