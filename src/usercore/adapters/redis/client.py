"""Building the ``redis.asyncio`` client from a URL, with every wait bounded."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff


def redis_client(url: str, *, timeout_seconds: float = 5.0, pool_size: int = 10) -> Redis:
    """A client for a ``redis://``, ``rediss://`` or ``unix://`` URL; no I/O happens here.

    Connecting, each reply and waiting for a free connection (at most
    ``pool_size`` per process) are each bounded by ``timeout_seconds``;
    options written in the URL's query win. Commands are not retried: a
    command whose reply was lost may have run, and running a count twice
    would count a failure twice.

    Raises:
        ValueError: ``url`` is not a Redis URL, or one of its options is unusable.
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=pool_size,
        timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)
