"""Errors that any port may raise, whatever the technology behind it."""

from __future__ import annotations

from usercore.domain.errors import UserCoreError


class StorageUnavailableError(UserCoreError):
    """The storage backend could not be reached or did not answer in time.

    Raised instead of any driver exception. The operation may or may not have
    been applied when the connection broke mid-way; each single operation is
    atomic, so it was applied whole or not at all.
    """

    def __init__(self, backend: str, reason: str = "storage is unavailable") -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class OutcomeUnknownError(StorageUnavailableError):
    """A write failed in a way that may have applied it, and reading back could not tell.

    Raised when the answer to a write was lost (the connection broke or the
    time ran out after the write was sent, or the write concern was not
    met) and the stored state, read back from the primary, shows neither
    this write nor a conflicting one. The write was applied whole or not at
    all, and may yet be; calling again with the same values is safe, and a
    retried compare-and-set may then report a conflict.
    """


class SchemaOutOfDateError(UserCoreError):
    """The storage schema is behind what this version of usercore needs.

    The message names the command that fixes it, ``usercore migrate``.
    """

    def __init__(self, backend: str, detail: str = "") -> None:
        suffix = f" ({detail})" if detail else ""
        super().__init__(
            f"{backend}: the storage schema is out of date{suffix}; run `usercore migrate`"
        )
        self.backend = backend


class MigrationError(UserCoreError):
    """``usercore migrate`` could not bring the schema up to date, and says why.

    Raised for what retrying will not fix (data that breaks a new constraint,
    a conflicting index made by hand, missing privileges); the message says
    what to do about it. An unreachable database is ``StorageUnavailableError``.
    """

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: cannot migrate: {reason}")
        self.backend = backend
        self.reason = reason
