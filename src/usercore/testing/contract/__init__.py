"""The repository contract suites: subclass them once per backend."""

from usercore.testing.contract.base import EPOCH, RecordFactory, Repositories
from usercore.testing.contract.events import EventLogContract
from usercore.testing.contract.sessions import SessionRepositoryContract
from usercore.testing.contract.throttle import ThrottleStoreContract
from usercore.testing.contract.users import UserRepositoryContract

__all__ = [
    "EPOCH",
    "EventLogContract",
    "RecordFactory",
    "Repositories",
    "SessionRepositoryContract",
    "ThrottleStoreContract",
    "UserRepositoryContract",
]
