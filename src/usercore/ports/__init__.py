"""Ports: the interfaces the usercore core needs from the outside world."""

from usercore.ports.clock import Clock, IdFactory
from usercore.ports.errors import (
    MigrationError,
    OutcomeUnknownError,
    SchemaOutOfDateError,
    StorageUnavailableError,
)
from usercore.ports.hashing import PasswordHasher
from usercore.ports.sessions import SessionRepository
from usercore.ports.strength import PasswordStrengthEstimator
from usercore.ports.throttle import ThrottleStore
from usercore.ports.users import UserRepository

__all__ = [
    "Clock",
    "IdFactory",
    "MigrationError",
    "OutcomeUnknownError",
    "PasswordHasher",
    "PasswordStrengthEstimator",
    "SchemaOutOfDateError",
    "SessionRepository",
    "StorageUnavailableError",
    "ThrottleStore",
    "UserRepository",
]
