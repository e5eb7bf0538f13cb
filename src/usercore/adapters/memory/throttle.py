"""InMemoryThrottleStore: the ThrottleStore port in process memory."""

from __future__ import annotations

import threading
from datetime import datetime

import attrs

from usercore.domain.throttle import ThrottleState
from usercore.domain.timestamps import utc_millis
from usercore.ports.throttle import ThrottleStore


@attrs.frozen
class _Record:
    state: ThrottleState
    expires_at: datetime


class InMemoryThrottleStore(ThrottleStore):
    """Failure counts in a dict, for one process (tests, demos, single-process servers).

    Every method runs under one lock without awaiting, so each is atomic for
    concurrent tasks and threads alike. Expired records stay until
    :meth:`purge` (a new failure on one starts it over).
    """

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    async def get(self, key: str) -> ThrottleState | None:  # noqa: D102 - documented by the port
        record = self._records.get(key)
        return None if record is None else record.state

    async def record_failure(  # noqa: D102
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        now, expires_at = utc_millis(now), utc_millis(expires_at)
        with self._lock:
            record = self._records.get(key)
            if record is None or record.expires_at <= now:
                record = _Record(ThrottleState(1, now), expires_at)
            else:
                state = record.state
                record = _Record(
                    ThrottleState(state.failures + 1, max(state.last_failure_at, now)),
                    max(record.expires_at, expires_at),
                )
            self._records[key] = record
            return record.state

    async def clear(self, key: str) -> None:  # noqa: D102
        with self._lock:
            self._records.pop(key, None)

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        with self._lock:
            expired = [key for key, record in self._records.items() if record.expires_at <= now]
            for key in expired:
                del self._records[key]
            return len(expired)
