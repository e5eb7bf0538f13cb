"""The system clock and the UUIDv7 id factory."""

from usercore.adapters.system.clock import SystemClock, Uuid7Factory

__all__ = ["SystemClock", "Uuid7Factory"]
