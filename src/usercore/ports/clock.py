"""The Clock and IdFactory ports: where time and new ids come from."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class Clock(Protocol):
    """Tells the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class IdFactory(Protocol):
    """Makes new ids for users and sessions."""

    def new_id(self) -> str:
        """A new UUIDv7 in canonical lower-case text; ids made later sort after."""
        ...
