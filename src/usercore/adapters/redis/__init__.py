"""Redis storage on ``redis.asyncio``: the login throttle store, shared by every node."""

from usercore.adapters.redis.client import redis_client
from usercore.adapters.redis.throttle import DEFAULT_PREFIX, RedisThrottleStore

__all__ = ["DEFAULT_PREFIX", "RedisThrottleStore", "redis_client"]
