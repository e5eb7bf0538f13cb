"""Translating driver exceptions into the ports' errors, at the adapter boundary."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from usercore.ports.errors import StorageUnavailableError

#: What counts as storage trouble: anything the driver or SQLAlchemy raises,
#: sockets failing, and waits running out.
STORAGE_FAILURES: tuple[type[BaseException], ...] = (
    sa_exc.SQLAlchemyError,
    OSError,
    TimeoutError,
)

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"


def unavailable(backend: str, exc: BaseException, *, timeout: float) -> StorageUnavailableError:
    """The port's error for ``exc``; its reason names the failure, never SQL or data."""
    if isinstance(exc, TimeoutError | sa_exc.TimeoutError):
        return StorageUnavailableError(backend, f"no answer within {timeout:g} s")
    cause = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    if backend == "sqlite" and isinstance(exc, sa_exc.OperationalError):
        # SQLite's messages are fixed phrases an operator can act on
        # ("unable to open database file", "disk I/O error"), never data.
        return StorageUnavailableError(backend, f"storage failed ({cause})")
    return StorageUnavailableError(backend, f"storage failed ({type(cause).__name__})")


def integrity_kind(exc: sa_exc.IntegrityError) -> tuple[str, str]:
    """What an integrity error violated: (``unique`` or ``foreign_key`` or ``other``, detail).

    The detail names the constraint (PostgreSQL) or the column (SQLite), so
    the caller can tell an email clash from an id clash.
    """
    orig = exc.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if code is not None:
        driver_error = getattr(orig, "__cause__", None)
        constraint = str(getattr(driver_error, "constraint_name", "") or "")
        if code == _UNIQUE_VIOLATION:
            return "unique", constraint
        if code == _FOREIGN_KEY_VIOLATION:
            return "foreign_key", constraint
        return "other", constraint
    message = str(orig)
    if message.startswith("UNIQUE constraint failed:"):
        return "unique", message.partition(":")[2].strip()
    if "FOREIGN KEY constraint failed" in message:
        return "foreign_key", ""
    return "other", ""
