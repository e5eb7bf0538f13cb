"""What a backend hands the contract suites: its two repositories over empty storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs

from usercore.domain.email import Email
from usercore.domain.events import (
    DomainEvent,
    SessionRevoked,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from usercore.domain.ids import UserId
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.ports.events import EventLog
from usercore.ports.sessions import SessionRepository
from usercore.ports.users import UserRepository
from usercore.testing.doubles import ManualClock, SequentialIds

#: A fixed moment the contract suites build their records around. It lies in
#: the future so that a backend purging expired sessions by its own wall clock
#: (MongoDB's TTL index) leaves the suites' sessions alone.
EPOCH = datetime(2100, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


@attrs.frozen
class Repositories:
    """The repositories of one backend, sharing its storage (``events`` is its outbox)."""

    users: UserRepository
    sessions: SessionRepository
    events: EventLog


class RecordFactory:
    """Makes valid users and sessions with fresh ids, for the contract suites."""

    def __init__(self) -> None:
        self.clock = ManualClock(EPOCH)
        self._ids = SequentialIds(self.clock)
        self._serial = 0

    def user(
        self,
        *,
        email: str | None = None,
        name: str = "",
        roles: frozenset[Role] = frozenset({Role.USER}),
        is_active: bool = True,
    ) -> User:
        """A version-1 user; ``email`` defaults to a unique address."""
        self._serial += 1
        self.clock.advance(0.001)
        user = User.create(
            id=UserId(self._ids.new_id()),
            email=Email.parse(email or f"user{self._serial:05d}@example.com"),
            password_hash=PasswordHash(f"$test$hash{self._serial}"),
            now=self.clock.now(),
            name=name,
            roles=roles,
        )
        if not is_active:
            user = user.with_admin_changes(now=self.clock.now(), is_active=False)
        return user

    def registered(self, user: User) -> UserRegistered:
        """The event announcing ``user``'s registration."""
        return UserRegistered(
            id=self._ids.new_id(),
            user_id=user.id,
            occurred_at=self.clock.now(),
            email=user.email.value,
            name=user.name,
            roles=[role.name for role in user.roles],
            is_verified=user.is_verified,
        )

    def updated(self, user: User, *, actor: User | None = None) -> UserUpdated:
        """An event announcing that ``user`` (as given: after the change) was updated."""
        return UserUpdated(
            id=self._ids.new_id(),
            user_id=user.id,
            occurred_at=self.clock.now(),
            actor_id=None if actor is None else actor.id,
            fields=["name", "email"],
            email=user.email.value,
            name=user.name,
            roles=[role.name for role in user.roles],
            is_active=user.is_active,
            is_verified=user.is_verified,
        )

    def deleted(self, user: User) -> UserDeleted:
        """The event announcing ``user``'s deletion."""
        return UserDeleted(id=self._ids.new_id(), user_id=user.id, occurred_at=self.clock.now())

    def standalone(self, user: User, *, reason: str = "logout") -> DomainEvent:
        """An event that goes with no user write (a session ending)."""
        self.clock.advance(0.001)
        return SessionRevoked(
            id=self._ids.new_id(),
            user_id=user.id,
            occurred_at=self.clock.now(),
            session_id=self._ids.new_id(),
            reason=reason,
        )

    def session(self, user: User, *, token_hash: str = "", ttl_seconds: float = 3600) -> Session:
        """A new live session of ``user``."""
        self.clock.advance(0.001)
        now = self.clock.now()
        return Session.start(
            id=self._ids.new_id(),
            user_id=user.id,
            token_hash=token_hash or f"hash-{self._ids.new_id()}",
            now=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
            epoch=user.credential_epoch,
        )
