"""The ThrottleStore port: per-key counts of consecutive failures, shared by every process."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from usercore.domain.throttle import ThrottleState


class ThrottleStore(Protocol):
    """Keeps, per key, how many failures happened in a row and when the latest did.

    Keys are opaque printable-ASCII strings of at most 200 characters; the
    caller passes a keyed hash (an HMAC hex digest), so a store never sees an
    email address. Each record has an ``expires_at``: until then it is kept;
    after it, it may be dropped at any time (by :meth:`purge`, or by a store
    that expires records on its own clock), and a new failure starts it over.

    Every method is atomic, also across processes and machines sharing the
    store, and may raise ``StorageUnavailableError``; a store translates
    every driver error into it.
    """

    async def get(self, key: str) -> ThrottleState | None:
        """The record of ``key``, or None when there is none.

        A record past its ``expires_at`` may still be returned until it is
        dropped; its delay is over by then (see ``ThrottlePolicy.forget_after``).
        """
        ...

    async def record_failure(
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        """Count one more failure of ``key``, atomically, and return the record after it.

        Creates the record with 1 failure when there is none, or when the
        stored one expired (its ``expires_at`` is at or before ``now``).
        Otherwise adds one: N concurrent calls, from any number of processes,
        return the counts n+1 .. n+N, each exactly once. ``last_failure_at``
        becomes ``now`` and the record is kept until ``expires_at``; neither
        ever moves backwards (a caller whose clock is behind the stored times
        leaves them as they are).

        Args:
            key: Whose failure it is.
            now: When it happened (timezone-aware).
            expires_at: Keep the record at least until then (timezone-aware,
                after ``now``).
        """
        ...

    async def clear(self, key: str) -> None:
        """Forget ``key``'s record (nothing happens when there is none)."""
        ...

    async def purge(self, *, now: datetime) -> int:
        """Drop every record whose ``expires_at`` is at or before ``now``.

        Returns:
            How many records this call dropped (not counting those the store
            had already dropped on its own).
        """
        ...
