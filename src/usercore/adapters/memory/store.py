"""The shared state behind the in-memory repositories: users, their sessions and indexes."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Sequence
from datetime import datetime

import attrs

from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.ports.events import Notification, ParkedEvent, Tracking


@attrs.define
class Lease:
    """A subscriber's tracking and who may change it until when."""

    tracking: Tracking
    owner: str | None = None
    until: datetime | None = None


@attrs.define
class InMemoryStore:
    """Users and sessions of one in-memory database.

    One store backs both repositories, so deleting a user deletes their
    sessions atomically. Every repository method runs under ``lock`` without
    awaiting, so it is atomic for concurrent tasks and threads alike.
    """

    users: dict[UserId, User] = attrs.field(factory=dict)
    ids_by_email: dict[str, UserId] = attrs.field(factory=dict)
    #: User ids in ascending order, for keyset pagination.
    sorted_ids: list[UserId] = attrs.field(factory=list)
    sessions: dict[str, Session] = attrs.field(factory=dict)
    session_ids_by_user: dict[UserId, set[str]] = attrs.field(factory=dict)
    #: The outbox, in position order; positions are 1, 2, ... and never reused.
    events: list[Notification] = attrs.field(factory=list)
    last_position: int = 0
    leases: dict[str, Lease] = attrs.field(factory=dict)
    parked: dict[tuple[str, str], ParkedEvent] = attrs.field(factory=dict)
    lock: threading.Lock = attrs.field(factory=threading.Lock)

    def append_events(self, events: Sequence[DomainEvent]) -> None:
        """Add ``events`` to the outbox (call under ``lock``, with the change they announce)."""
        for event in events:
            self.last_position += 1
            self.events.append(Notification(self.last_position, event))

    def insert_user_id(self, user_id: UserId) -> None:
        """Keep ``sorted_ids`` sorted; new UUIDv7 ids mostly go at the end."""
        if not self.sorted_ids or self.sorted_ids[-1] < user_id:
            self.sorted_ids.append(user_id)
        else:
            bisect.insort(self.sorted_ids, user_id)

    def remove_user(self, user_id: UserId) -> bool:
        """Forget the user and all their sessions; False if there was no such user."""
        user = self.users.pop(user_id, None)
        if user is None:
            return False
        del self.ids_by_email[user.email.value]
        del self.sorted_ids[bisect.bisect_left(self.sorted_ids, user_id)]
        for session_id in self.session_ids_by_user.pop(user_id, set()):
            del self.sessions[session_id]
        return True
