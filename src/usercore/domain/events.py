"""Domain events: one frozen record per fact, the source of hooks, webhooks, mail and the audit log.

Every event names its user, when it happened and who acted (when someone
other than the user did), and has an id of its own (a UUIDv7: unique, and
sorting by time) by which subscribers recognise a redelivery. ``type`` is a
stable dotted name (``user.registered``) and ``schema_version`` says which
shape of that type's fields an event has; both are part of every serialised
form.

No event ever carries a password, a password hash, a refresh or access token
or a key. The link tokens of the email flows (verification, reset, email
change) are not in their events either: an event names the link token by its
id (``token_id``), and the mail subscriber gets the secret itself from the
link-token store, which keeps it sealed for the mailer only (see
docs/events.md). Events are plain data: how they are stored or sent is up to
the adapters.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

import attrs

from usercore.domain.ids import UserId
from usercore.domain.timestamps import utc_millis


def _names(values: Iterable[str]) -> tuple[str, ...]:
    # Sorted, so that equal sets give equal events whatever order they came in.
    return tuple(sorted(values))


@attrs.frozen(kw_only=True)
class DomainEvent:
    """What every event has.

    Attributes:
        type: The event's stable name, e.g. ``user.registered`` (a class attribute).
        schema_version: The version of this type's fields (a class attribute).
        id: The event's own id, a UUIDv7: subscribers deduplicate by it.
        user_id: The user the event is about.
        occurred_at: When it happened (UTC, whole milliseconds).
        actor_id: Who acted, when that was not the user (an administrator); None otherwise.
    """

    type: ClassVar[str] = "event"
    schema_version: ClassVar[int] = 1

    id: str
    user_id: UserId
    occurred_at: datetime = attrs.field(converter=utc_millis)
    actor_id: UserId | None = None


# Accounts.


@attrs.frozen(kw_only=True)
class UserRegistered(DomainEvent):
    """An account was created (by registration, or by an operator)."""

    type: ClassVar[str] = "user.registered"

    email: str
    name: str
    roles: tuple[str, ...] = attrs.field(converter=_names)
    is_verified: bool


@attrs.frozen(kw_only=True)
class UserUpdated(DomainEvent):
    """Managed fields of a user changed.

    Attributes:
        fields: The names of the fields that changed (``name``, ``email``,
            ``roles``, ``is_active``, ``is_verified``), sorted.
        email, name, roles, is_active, is_verified: The values after the
            change, so that a copy elsewhere can be brought up to date
            without reading the user back.
    """

    type: ClassVar[str] = "user.updated"

    fields: tuple[str, ...] = attrs.field(converter=_names)
    email: str
    name: str
    roles: tuple[str, ...] = attrs.field(converter=_names)
    is_active: bool
    is_verified: bool


@attrs.frozen(kw_only=True)
class UserDeactivated(DomainEvent):
    """An administrator deactivated the user: every token of theirs is void for good."""

    type: ClassVar[str] = "user.deactivated"


@attrs.frozen(kw_only=True)
class UserDeleted(DomainEvent):
    """The account and its sessions were erased, by the user or an administrator."""

    type: ClassVar[str] = "user.deleted"


# Email and password.


@attrs.frozen(kw_only=True)
class EmailVerificationRequested(DomainEvent):
    """A verification link for ``email`` is to be mailed; ``token_id`` names its link token."""

    type: ClassVar[str] = "user.email_verification_requested"

    email: str
    token_id: str


@attrs.frozen(kw_only=True)
class EmailVerified(DomainEvent):
    """The user proved they receive mail at ``email``."""

    type: ClassVar[str] = "user.email_verified"

    email: str


@attrs.frozen(kw_only=True)
class EmailChangeRequested(DomainEvent):
    """A confirmation link for ``new_email`` is to be mailed; ``token_id`` names its link token."""

    type: ClassVar[str] = "user.email_change_requested"

    new_email: str
    token_id: str


@attrs.frozen(kw_only=True)
class EmailChanged(DomainEvent):
    """The login email moved from ``old_email`` to ``new_email`` (unverified)."""

    type: ClassVar[str] = "user.email_changed"

    old_email: str
    new_email: str


@attrs.frozen(kw_only=True)
class PasswordChanged(DomainEvent):
    """The user set a new password; every session and token of theirs ended."""

    type: ClassVar[str] = "user.password_changed"


@attrs.frozen(kw_only=True)
class PasswordResetRequested(DomainEvent):
    """A reset link is to be mailed; ``token_id`` names its link token."""

    type: ClassVar[str] = "user.password_reset_requested"

    token_id: str


@attrs.frozen(kw_only=True)
class PasswordReset(DomainEvent):
    """The password was reset through a link; every session and token ended."""

    type: ClassVar[str] = "user.password_reset"


# Logins and sessions.


@attrs.frozen(kw_only=True)
class LoggedIn(DomainEvent):
    """A session started (a password grant, or tokens issued after another sign-in)."""

    type: ClassVar[str] = "session.logged_in"

    session_id: str


@attrs.frozen(kw_only=True)
class LoginFailed(DomainEvent):
    """A login for this user failed: ``reason`` is ``wrong_password`` or ``inactive``.

    Failures for unknown emails have no user and are only logged: an event per
    guessed address would let anyone fill the outbox.
    """

    type: ClassVar[str] = "session.login_failed"

    reason: str


@attrs.frozen(kw_only=True)
class LoginThrottled(DomainEvent):
    """A login (or password check) was refused unchecked; retry after ``retry_after`` seconds."""

    type: ClassVar[str] = "session.login_throttled"

    retry_after: int


@attrs.frozen(kw_only=True)
class SessionRevoked(DomainEvent):
    """One session ended: ``reason`` is ``logout``, ``user`` or ``session_cap``."""

    type: ClassVar[str] = "session.revoked"

    session_id: str
    reason: str


@attrs.frozen(kw_only=True)
class AllSessionsRevoked(DomainEvent):
    """Log out everywhere: every session and access token of the user ended."""

    type: ClassVar[str] = "session.all_revoked"


@attrs.frozen(kw_only=True)
class RefreshTokenReused(DomainEvent):
    """A superseded refresh token was presented again; its session was revoked."""

    type: ClassVar[str] = "session.refresh_token_reused"

    session_id: str


#: Every event type by its ``type`` name: the catalogue adapters read events back with.
EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.type: cls
    for cls in (
        UserRegistered,
        UserUpdated,
        UserDeactivated,
        UserDeleted,
        EmailVerificationRequested,
        EmailVerified,
        EmailChangeRequested,
        EmailChanged,
        PasswordChanged,
        PasswordResetRequested,
        PasswordReset,
        LoggedIn,
        LoginFailed,
        LoginThrottled,
        SessionRevoked,
        AllSessionsRevoked,
        RefreshTokenReused,
    )
}

#: The attributes every event has; the others are the type's own facts.
COMMON_FIELDS = frozenset({"id", "user_id", "occurred_at", "actor_id"})


def event_facts(event: DomainEvent) -> dict[str, object]:
    """The type's own fields of ``event`` by name (tuples as tuples), without the common ones."""
    return {
        field.name: getattr(event, field.name)
        for field in attrs.fields(type(event))
        if field.name not in COMMON_FIELDS
    }
