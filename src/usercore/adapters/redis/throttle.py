"""RedisThrottleStore: the ThrottleStore port on Redis, one hash per key that expires itself."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from usercore.domain.throttle import ThrottleState
from usercore.domain.timestamps import utc_millis
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.throttle import ThrottleStore

#: The backend name errors carry.
BACKEND = "redis"
#: Where the records live unless told otherwise; keeps them apart from the host's keys.
DEFAULT_PREFIX = "usercore:throttle:"
#: Keys examined per SCAN round of a purge.
_SCAN_COUNT = 500

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_GLOB_SPECIALS = re.compile(r"([\\*?\[\]])")

# One script call is one atomic step on the server: read, count, stamp and
# set the expiry together. Times are integer milliseconds since the epoch;
# Lua's doubles hold them exactly. A record whose own expiry ("e") has passed
# by the caller's clock starts over, as the port says; the server's clock
# (PEXPIREAT) removes it on its own.
_RECORD_FAILURE = """
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local stored = redis.call('HMGET', KEYS[1], 'f', 't', 'e')
local failures, last = 1, now
if stored[1] and stored[3] and tonumber(stored[3]) > now then
  failures = tonumber(stored[1]) + 1
  last = math.max(tonumber(stored[2]), now)
  keep = math.max(tonumber(stored[3]), keep)
end
redis.call('HSET', KEYS[1], 'f', failures, 't', last, 'e', keep)
redis.call('PEXPIREAT', KEYS[1], keep)
return {failures, last}
"""

# Checked and deleted per key in one step, so a record counted again since
# the SCAN saw it (its expiry moved on) is kept.
_PURGE = """
local now = tonumber(ARGV[1])
local dropped = 0
for _, key in ipairs(KEYS) do
  local keep = redis.call('HGET', key, 'e')
  if keep and tonumber(keep) <= now then
    redis.call('DEL', key)
    dropped = dropped + 1
  end
end
return dropped
"""


def _millis(moment: datetime) -> int:
    return (utc_millis(moment) - _EPOCH) // _MILLISECOND


def _moment(millis: int) -> datetime:
    return _EPOCH + millis * _MILLISECOND


class RedisThrottleStore(ThrottleStore):
    """Failure counts as Redis hashes ``<prefix><key>`` with fields ``f``, ``t`` and ``e``.

    Redis drops each record by itself once ``expires_at`` has passed on the
    server's clock (``PEXPIREAT``), so nothing needs purging; :meth:`purge`
    still drops what has expired by the caller's clock, scanning the
    prefix (its cost grows with the keys in the database).

    Receives a ready-built client (see :func:`~usercore.adapters.redis.redis_client`)
    and makes no I/O until first used. Every call is bounded by
    ``timeout_seconds`` as a whole; each SCAN round of a purge is bounded by it.

    Args:
        client: The client; its owner closes it.
        prefix: Put before every key, e.g. to share one database among applications.
        timeout_seconds: The bound on one call.
    """

    def __init__(
        self, client: Redis, *, prefix: str = DEFAULT_PREFIX, timeout_seconds: float = 5.0
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._timeout = timeout_seconds
        self._record_failure = client.register_script(_RECORD_FAILURE)
        self._purge = client.register_script(_PURGE)

    async def get(self, key: str) -> ThrottleState | None:  # noqa: D102 - documented by the port
        async with self._bounded():
            failures, last = await self._redis.hmget(self._prefix + key, ["f", "t"])
        if failures is None or last is None:
            return None
        return ThrottleState(failures=int(failures), last_failure_at=_moment(int(last)))

    async def record_failure(  # noqa: D102
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        async with self._bounded():
            failures, last = await self._record_failure(
                keys=[self._prefix + key], args=[_millis(now), _millis(expires_at)]
            )
        return ThrottleState(failures=int(failures), last_failure_at=_moment(int(last)))

    async def clear(self, key: str) -> None:  # noqa: D102
        async with self._bounded():
            await self._redis.delete(self._prefix + key)

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        pattern = _GLOB_SPECIALS.sub(r"\\\1", self._prefix) + "*"
        cutoff = _millis(now)
        dropped = 0
        cursor: Any = 0
        while True:
            async with self._bounded():
                cursor, keys = await self._redis.scan(cursor, match=pattern, count=_SCAN_COUNT)
                if keys:
                    dropped += int(await self._purge(keys=keys, args=[cutoff]))
            if int(cursor) == 0:
                return dropped

    @contextlib.asynccontextmanager
    async def _bounded(self) -> AsyncIterator[None]:
        """Run one step under the time bound, with every driver error translated."""
        try:
            async with asyncio.timeout(self._timeout):
                yield
        except (TimeoutError, RedisTimeoutError) as exc:
            raise StorageUnavailableError(BACKEND, f"no answer within {self._timeout:g} s") from exc
        except (RedisError, OSError) as exc:
            # The driver's messages may name hosts; the reason stays generic
            # and the original exception remains chained for the log.
            raise StorageUnavailableError(
                BACKEND, f"storage failed ({type(exc).__name__})"
            ) from exc
