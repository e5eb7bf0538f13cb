"""The UserRepository port: where user accounts are kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from usercore.domain.email import Email
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.user import User


class UserRepository(Protocol):
    """Stores users. Every method may raise ``StorageUnavailableError``.

    Writes may raise ``ValidationError`` for a value the storage cannot hold
    (text with lone surrogates, say); a read for such a value finds nothing.

    Each method is atomic: it is applied whole or not at all, and concurrent
    calls behave as if made one after another.

    The writing methods take the domain events that announce the change
    (``events``) and put them in the outbox (see ``usercore.ports.events``)
    atomically with it: when the change is refused or fails, none of them is
    written; when it is committed, all of them are, in the given order, after
    every event committed before.
    """

    async def add(self, user: User, *, events: Sequence[DomainEvent] = ()) -> None:
        """Store a new user, and ``events`` with it.

        Raises:
            EmailTakenError: Another stored user has the same (normalised)
                email. Enforced by the storage itself, so of N concurrent adds
                with one email exactly one succeeds.
        """
        ...

    async def add_many(self, users: Sequence[User]) -> set[UserId]:
        """Store each of ``users`` whose id and email are free; the ids of those stored.

        For bulk imports: one round trip for the batch. Each user is stored
        whole or not at all. A user whose id or (normalised) email is already
        stored, or belongs to an earlier user of the same call, is left out:
        not an error, and nothing else changes.
        """
        ...

    async def get(self, user_id: UserId) -> User | None:
        """The user with this id, or None when there is none."""
        ...

    async def get_many(self, user_ids: Sequence[UserId]) -> list[User]:
        """The stored users among ``user_ids``, in any order; absent ids are left out."""
        ...

    async def get_by_email(self, email: Email) -> User | None:
        """The user with this normalised email, or None when there is none."""
        ...

    async def update(
        self, user: User, *, expected_version: int, events: Sequence[DomainEvent] = ()
    ) -> None:
        """Replace the stored user if it is still at ``expected_version``; write ``events`` with it.

        Compare-and-set: of N concurrent updates from one version exactly one
        succeeds. ``user.version`` is stored as given (normally one more).

        Raises:
            VersionConflictError: The stored user is at another version; nothing changed.
            UserNotFoundError: No user has ``user.id``; nothing changed.
            EmailTakenError: ``user.email`` belongs to another user; nothing changed.
        """
        ...

    async def delete(self, user_id: UserId, *, events: Sequence[DomainEvent] = ()) -> bool:
        """Delete the user and every session of theirs; write ``events`` if the user existed.

        Returns:
            True if the user existed.
        """
        ...

    async def list(self, query: UserQuery) -> Page[User]:
        """One page of users matching ``query``, in ascending id order.

        Only users with an id greater than ``query.after`` are considered.
        ``next_cursor`` is set when more matching users follow, and continuing
        from it never repeats or skips a user that existed throughout.
        """
        ...

    async def ping(self) -> None:
        """Return when storage answers.

        Raises:
            StorageUnavailableError: It does not.
        """
        ...
