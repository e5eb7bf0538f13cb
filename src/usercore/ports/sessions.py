"""The SessionRepository port: login sessions (refresh-token rotation families)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from usercore.domain.ids import UserId
from usercore.domain.sessions import Session


class SessionRepository(Protocol):
    """Stores login sessions. Every method may raise ``StorageUnavailableError``.

    Writes may raise ``ValidationError`` for a value the storage cannot hold
    (text with lone surrogates, say); a read for such a value finds nothing.

    Sessions belong to a user: deleting the user (``UserRepository.delete``)
    deletes their sessions. Each method is atomic.
    """

    async def add(self, session: Session) -> None:
        """Store a new session of an existing user.

        Raises:
            UserNotFoundError: ``session.user_id`` is not a stored user.
        """
        ...

    async def get(self, session_id: str) -> Session | None:
        """The session with this id, or None (also when its user is gone)."""
        ...

    async def rotate(self, current: Session, rotated: Session) -> bool:
        """Replace ``current`` by ``rotated`` (its next generation), compare-and-set.

        Succeeds only if the stored session still has ``current.token_hash``
        and ``current.generation`` and is not revoked: of N concurrent
        rotations of one generation exactly one succeeds.

        Returns:
            True if this call replaced it; False, changing nothing, otherwise.
        """
        ...

    async def revoke(self, session_id: str, *, now: datetime) -> bool:
        """Mark the session revoked at ``now``.

        Returns:
            True if it existed and was not revoked before.
        """
        ...

    async def revoke_all(self, user_id: UserId, *, now: datetime) -> int:
        """Revoke every unrevoked session of the user at ``now``.

        Returns:
            How many sessions this revoked.
        """
        ...

    async def list_for_user(self, user_id: UserId) -> list[Session]:
        """Every session of the user, revoked and expired ones included, oldest first.

        Ordered by ``created_at``, then ``id``.
        """
        ...

    async def purge(self, *, now: datetime) -> int:
        """Delete every session that can never act again: revoked, or expired at ``now``.

        Live sessions (unrevoked, ``expires_at`` after ``now``) are never
        touched. Safe to run from several processes at once.

        Returns:
            How many were deleted.
        """
        ...
