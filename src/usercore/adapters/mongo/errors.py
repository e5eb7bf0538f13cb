"""Translating pymongo's exceptions into usercore's at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import (
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    PyMongoError,
    WTimeoutError,
)

from usercore.ports.errors import StorageUnavailableError

#: The backend name errors carry.
BACKEND = "mongodb"


def is_email_violation(exc: DuplicateKeyError) -> bool:
    """Whether a duplicate key error came from the unique email index (not ``_id``).

    Servers report the violated key pattern in the error details; the index
    name in the message is the fallback for replies without them.
    """
    details = exc.details or {}
    key_pattern = details.get("keyPattern")
    if isinstance(key_pattern, dict):
        return "email" in key_pattern
    return "email" in str(exc)


def _reason(exc: PyMongoError) -> str:
    # The driver's message names hosts and internals: the reason stays generic
    # and the original exception remains chained for the log.
    if isinstance(exc, ExecutionTimeout | WTimeoutError) or exc.timeout:
        return f"the server did not answer in time ({type(exc).__name__})"
    if isinstance(exc, ConnectionFailure):
        return f"cannot reach the server ({type(exc).__name__})"
    return f"the operation failed ({type(exc).__name__})"


@contextmanager
def translated() -> Iterator[None]:
    """Turn any pymongo exception raised inside the block into ``StorageUnavailableError``.

    Callers that expect a duplicate key catch ``DuplicateKeyError`` inside
    the block first and raise the domain error; anything else from the driver
    (unreachable server, timeouts, refused operations) means storage cannot
    serve the request.
    """
    try:
        yield
    except PyMongoError as exc:
        raise StorageUnavailableError(BACKEND, _reason(exc)) from exc
