"""The system clock, the UUIDv7 id factory and private secret key files."""

from usercore.adapters.system.clock import SystemClock, Uuid7Factory
from usercore.adapters.system.secretfile import (
    SecretFileError,
    create_secret_file,
    read_secret_file,
)

__all__ = [
    "SecretFileError",
    "SystemClock",
    "Uuid7Factory",
    "create_secret_file",
    "read_secret_file",
]
