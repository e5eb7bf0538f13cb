"""The events that announce changes to a user record, made from the versions before and after."""

from __future__ import annotations

from collections.abc import Sequence

from usercore.domain.events import (
    DomainEvent,
    EmailChanged,
    UserDeactivated,
    UserRegistered,
    UserUpdated,
)
from usercore.domain.ids import UserId
from usercore.domain.user import User
from usercore.services._writes import Announce
from usercore.services.announce import Announcer

#: The managed fields a ``UserUpdated`` reports; never the password hash or the epoch.
MANAGED_FIELDS = ("email", "name", "roles", "is_active", "is_verified")


def registered(announcer: Announcer, user: User) -> UserRegistered:
    """The event announcing a new account."""
    return announcer.make(
        UserRegistered,
        user_id=user.id,
        email=user.email.value,
        name=user.name,
        roles=[role.name for role in user.roles],
        is_verified=user.is_verified,
    )


def updates(announcer: Announcer, *, actor_id: UserId | None = None) -> Announce:
    """Makes the events of a change to managed fields, by ``actor_id`` (None: the user).

    ``UserUpdated`` names every changed field and carries the new values;
    ``EmailChanged`` and ``UserDeactivated`` go before it when they apply.
    """

    def announce(before: User, after: User) -> Sequence[DomainEvent]:
        changed = [name for name in MANAGED_FIELDS if getattr(before, name) != getattr(after, name)]
        if not changed:
            return ()
        events: list[DomainEvent] = []
        if "email" in changed:
            events.append(
                announcer.make(
                    EmailChanged,
                    user_id=after.id,
                    actor_id=actor_id,
                    old_email=before.email.value,
                    new_email=after.email.value,
                )
            )
        if "is_active" in changed and not after.is_active:
            events.append(announcer.make(UserDeactivated, user_id=after.id, actor_id=actor_id))
        events.append(
            announcer.make(
                UserUpdated,
                user_id=after.id,
                actor_id=actor_id,
                fields=changed,
                email=after.email.value,
                name=after.name,
                roles=[role.name for role in after.roles],
                is_active=after.is_active,
                is_verified=after.is_verified,
            )
        )
        return events

    return announce


def single(
    announcer: Announcer, kind: type[DomainEvent], *, actor_id: UserId | None = None
) -> Announce:
    """Makes one event of ``kind`` (no facts of its own) for whatever the change was."""

    def announce(before: User, after: User) -> Sequence[DomainEvent]:
        return [announcer.make(kind, user_id=after.id, actor_id=actor_id)]

    return announce
