"""Compare-and-set writes of one user record, re-applied when another writer got there first."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from usercore.domain.errors import UserNotFoundError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.user import User
from usercore.ports.users import UserRepository

#: Re-reads before giving up under a storm of writes to one user; each retry
#: means another writer succeeded, so the system as a whole makes progress.
MAX_ATTEMPTS = 8


#: The events announcing a change, from the user before and after it.
Announce = Callable[[User, User], Sequence[DomainEvent]]


async def apply_change(
    users: UserRepository,
    user_id: UserId,
    change: Callable[[User], User],
    *,
    expected_version: int | None = None,
    known: User | None = None,
    announce: Announce | None = None,
) -> tuple[User, Sequence[DomainEvent]]:
    """Apply ``change`` to the stored user in one compare-and-set write.

    With ``expected_version`` the change applies to that version only, else
    ``VersionConflictError``. Without it, a concurrent write in between is
    re-read and ``change`` re-applied to it, so neither write is lost.

    Args:
        users: Where the user is stored.
        user_id: Whose record to change.
        change: Makes the next version from the current one; returns its
            argument unchanged when there is nothing to do (no write happens).
            May raise a domain error to refuse the change.
        expected_version: The version the caller saw, e.g. from ``If-Match``.
        known: The user as the caller already read it, to save the first read.
        announce: Makes the events of the change from the versions before and
            after it; they are written in the same transaction as the change.

    Returns:
        The user as stored after the change, and the events written with it
        (none when nothing changed).
    """
    current = known if known is not None and known.id == user_id else await users.get(user_id)
    for _ in range(MAX_ATTEMPTS):
        if current is None:
            raise UserNotFoundError(user_id.value)
        if expected_version is not None and current.version != expected_version:
            raise VersionConflictError(user_id.value, expected_version)
        updated = change(current)
        if updated is current:
            return current, ()
        events = () if announce is None else announce(current, updated)
        try:
            await users.update(updated, expected_version=current.version, events=events)
        except VersionConflictError:
            if expected_version is not None:
                raise
            current = await users.get(user_id)
        else:
            return updated, events
    raise VersionConflictError(user_id.value, current.version if current else 0)
