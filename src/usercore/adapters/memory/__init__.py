"""In-memory storage: real implementations of the repository ports, held to their contract."""

from usercore.adapters.memory.events import InMemoryEventLog
from usercore.adapters.memory.sessions import InMemorySessionRepository
from usercore.adapters.memory.store import InMemoryStore
from usercore.adapters.memory.throttle import InMemoryThrottleStore
from usercore.adapters.memory.users import InMemoryUserRepository

__all__ = [
    "InMemoryEventLog",
    "InMemorySessionRepository",
    "InMemoryStore",
    "InMemoryThrottleStore",
    "InMemoryUserRepository",
]
