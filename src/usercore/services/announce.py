"""Announcing what happened: domain events made by the use cases, and their security log lines.

Events are the source of truth. Those that go with a user write are handed
to the repository, which writes them in the same transaction; the others are
appended to the event log on their own. Either way, once they are stored,
the events that matter for security are also written as the structured log
lines of ``usercore.services.security``, at once and in the request's context
(so the line carries the request id), rather than later by the dispatcher.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from usercore.domain.events import (
    AllSessionsRevoked,
    DomainEvent,
    EmailChanged,
    LoginFailed,
    LoginThrottled,
    PasswordChanged,
    RefreshTokenReused,
    SessionRevoked,
    UserDeleted,
    UserUpdated,
)
from usercore.domain.ids import UserId, uuid7_from_parts
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.events import EventLog
from usercore.services import security
from usercore.services.security import SecurityEvent

E = TypeVar("E", bound=DomainEvent)


class _ClockIds(IdFactory):
    """UUIDv7 ids from the clock and ``secrets``, for an announcer given no id factory."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def new_id(self) -> str:
        unix_ms = int(self._clock.now().timestamp() * 1000)
        return str(uuid7_from_parts(unix_ms, secrets.token_bytes(10)))


class Announcer:
    """Makes events and announces them.

    Args:
        clock: When events occur.
        ids: Event ids; defaults to UUIDv7 from ``clock`` and ``secrets``.
        log: Where events that go with no user write are stored; None keeps
            them to the security log alone (tests, or an application that
            wants no outbox).
    """

    def __init__(
        self, *, clock: Clock, ids: IdFactory | None = None, log: EventLog | None = None
    ) -> None:
        self._clock = clock
        self._ids = ids if ids is not None else _ClockIds(clock)
        self._log = log

    def make(
        self, kind: type[E], *, user_id: UserId, actor_id: UserId | None = None, **facts: Any
    ) -> E:
        """A new event of ``kind`` about ``user_id``, with a fresh id and the current time."""
        return kind(
            id=self._ids.new_id(),
            user_id=user_id,
            occurred_at=self._clock.now(),
            actor_id=actor_id,
            **facts,
        )

    async def announce(self, events: Sequence[DomainEvent]) -> None:
        """Store events that go with no user write, then log them.

        Raises:
            StorageUnavailableError: The event log could not store them.
        """
        if not events:
            return
        if self._log is not None:
            await self._log.append(events)
        self.written(events)

    def written(self, events: Sequence[DomainEvent]) -> None:
        """Log events that are stored (the repository wrote them with their change)."""
        for event in events:
            _log_line(event)


def _log_line(event: DomainEvent) -> None:
    """The security log line of ``event``, if it has one."""
    user, actor = event.user_id, event.actor_id
    if isinstance(event, LoginFailed):
        security.record(SecurityEvent.LOGIN_FAILED, user_id=user, reason=event.reason)
    elif isinstance(event, LoginThrottled):
        security.record(SecurityEvent.LOGIN_THROTTLED, user_id=user, retry_after=event.retry_after)
    elif isinstance(event, RefreshTokenReused):
        security.record(
            SecurityEvent.REFRESH_TOKEN_REUSED, user_id=user, session_id=event.session_id
        )
    elif isinstance(event, PasswordChanged):
        security.record(SecurityEvent.PASSWORD_CHANGED, user_id=user, actor_id=actor)
    elif isinstance(event, EmailChanged):
        security.record(SecurityEvent.EMAIL_CHANGED, user_id=user, actor_id=actor)
    elif isinstance(event, SessionRevoked):
        security.record(
            SecurityEvent.SESSION_REVOKED,
            user_id=user,
            session_id=event.session_id,
            reason=event.reason,
        )
    elif isinstance(event, AllSessionsRevoked):
        security.record(SecurityEvent.ALL_SESSIONS_REVOKED, user_id=user, actor_id=actor)
    elif isinstance(event, UserDeleted):
        security.record(SecurityEvent.USER_DELETED, user_id=user, actor_id=actor)
    elif isinstance(event, UserUpdated) and actor is not None:
        if "roles" in event.fields:
            security.record(
                SecurityEvent.ROLES_CHANGED, user_id=user, actor_id=actor, roles=list(event.roles)
            )
        if "is_active" in event.fields:
            security.record(
                SecurityEvent.ACTIVE_CHANGED,
                user_id=user,
                actor_id=actor,
                is_active=event.is_active,
            )
