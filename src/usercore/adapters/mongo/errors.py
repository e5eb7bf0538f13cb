"""Translating pymongo's and bson's exceptions into usercore's at the adapter boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bson.errors import InvalidBSON, InvalidDocument, InvalidStringData
from pymongo.errors import (
    ConnectionFailure,
    DocumentTooLarge,
    DuplicateKeyError,
    ExecutionTimeout,
    NotPrimaryError,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WriteConcernError,
    WTimeoutError,
)

from usercore.domain.errors import ValidationError
from usercore.ports.errors import StorageUnavailableError

#: The backend name errors carry.
BACKEND = "mongodb"

#: Server error codes (src/mongo/base/error_codes.yml in the server's source).
UNAUTHORIZED = 13
AUTHENTICATION_FAILED = 18


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


def may_have_applied(exc: BaseException | None) -> bool:
    """Whether a write that raised ``exc`` may nonetheless have been applied.

    True when the command may have reached the server and its answer was
    lost: the connection broke or the time ran out while waiting for it, or
    the write was applied on the primary but its write concern was not met.
    False when nothing was sent (no server could be selected, no pooled
    connection came free; on a retried write, pymongo then raises the first
    attempt's error instead) or the server refused the write as a
    non-primary.
    """
    if isinstance(exc, ServerSelectionTimeoutError | WaitQueueTimeoutError | NotPrimaryError):
        return False
    if isinstance(exc, WriteConcernError | ConnectionFailure | ExecutionTimeout):
        return True
    return isinstance(exc, PyMongoError) and exc.timeout


def reason(exc: PyMongoError) -> str:
    """What went wrong, in words an operator can act on, naming no host and no data.

    The driver's own message names hosts and internals, so it is left to the
    chained exception, which the log keeps.
    """
    code = exc.code if isinstance(exc, OperationFailure) else None
    if code == AUTHENTICATION_FAILED:
        return (
            "authentication failed (code 18): check the user and password, and authSource: "
            "without it the URL's path is also the authentication database"
        )
    if code == UNAUTHORIZED:
        return (
            "not authorized (code 13): the database user lacks a privilege usercore needs "
            "(readWrite on its database; migrate also needs dbAdmin)"
        )
    if isinstance(exc, ExecutionTimeout | WTimeoutError) or exc.timeout:
        return f"the server did not answer in time ({type(exc).__name__})"
    if isinstance(exc, ConnectionFailure):
        return f"cannot reach the server ({type(exc).__name__})"
    return f"the operation failed ({type(exc).__name__})"


@contextmanager
def translated() -> Iterator[None]:
    """Turn any pymongo or bson exception raised inside the block into usercore's.

    Callers that expect a duplicate key catch ``DuplicateKeyError`` inside
    the block first and raise the domain error. A value BSON cannot hold
    (text with lone surrogates, a document over the 16 MB limit) is a
    ``ValidationError``; anything else from the driver (unreachable server,
    timeouts, refused operations, a reply that cannot be decoded) means
    storage cannot serve the request.
    """
    try:
        yield
    except DocumentTooLarge as exc:
        raise ValidationError("document", "is larger than MongoDB can store (16 MB)") from exc
    except (InvalidDocument, InvalidStringData, UnicodeEncodeError) as exc:
        raise ValidationError(
            "document", f"holds a value MongoDB cannot store ({type(exc).__name__})"
        ) from exc
    except (InvalidBSON, UnicodeDecodeError) as exc:
        raise StorageUnavailableError(
            BACKEND, f"the server sent a document that cannot be decoded ({type(exc).__name__})"
        ) from exc
    except PyMongoError as exc:
        raise StorageUnavailableError(BACKEND, reason(exc)) from exc
