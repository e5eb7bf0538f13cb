"""Settling writes whose answer was lost: read the row back and say what really happened."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from usercore.ports.errors import OutcomeUnknownError, StorageUnavailableError

T = TypeVar("T")


class NotSeen(enum.Enum):
    """The type of :data:`NOT_SEEN`."""

    NOT_SEEN = enum.auto()


#: What a read-back returns when the row shows neither the write nor a conflicting one.
NOT_SEEN: Final = NotSeen.NOT_SEEN


async def settle(
    unknown: OutcomeUnknownError, read_back: Callable[[], Awaitable[T | NotSeen]]
) -> T:
    """The outcome of a write that raised ``unknown``, as the stored row tells it.

    ``read_back`` returns the write's result when the row is exactly what was
    written, raises the port's error when a conflicting write is there
    instead, or returns :data:`NOT_SEEN`.

    Raises:
        OutcomeUnknownError: ``unknown``, when the row shows neither or can't be read.
    """
    try:
        outcome = await read_back()
    except StorageUnavailableError:
        raise unknown from None
    if isinstance(outcome, NotSeen):
        raise unknown
    return outcome
