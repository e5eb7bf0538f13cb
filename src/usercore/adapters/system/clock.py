"""SystemClock and Uuid7Factory: time and ids from the operating system."""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import UTC, datetime

from usercore.domain.ids import uuid7_from_parts
from usercore.domain.timestamps import utc_millis
from usercore.ports.clock import Clock, IdFactory

_RFC_VARIANT = 0b10


class SystemClock(Clock):
    """The wall clock, in UTC, at millisecond precision."""

    def now(self) -> datetime:  # noqa: D102 - documented by the port
        return utc_millis(datetime.now(UTC))


class Uuid7Factory(IdFactory):
    """UUIDv7 ids from the wall clock and ``os.urandom``, strictly increasing per factory.

    Within one millisecond (or if the clock steps back) the next id is the
    previous one plus one, so ids made later by this factory always sort after.
    """

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def new_id(self) -> str:  # noqa: D102
        candidate = uuid7_from_parts(time.time_ns() // 1_000_000, os.urandom(10)).int
        with self._lock:
            if candidate <= self._last:
                candidate = _increment_keeping_version(self._last)
            self._last = candidate
        return str(uuid.UUID(int=candidate))


def _increment_keeping_version(value: int) -> int:
    # Adding one to the random tail keeps version and variant bits intact
    # except on overflow of the 62-bit tail, which then carries into rand_a.
    bumped = value + 1
    if (bumped >> 62) & 0b11 != _RFC_VARIANT:
        bumped = ((value >> 64) + 1) << 64 | (_RFC_VARIANT << 62)
    return bumped
