"""InMemoryUserRepository: the UserRepository port in process memory."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from usercore.adapters.memory.store import InMemoryStore
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery, user_page
from usercore.domain.user import User
from usercore.ports.users import UserRepository


class InMemoryUserRepository(UserRepository):
    """Users in a dict, with a unique email index and ids kept sorted.

    Production code with exactly the port's semantics, for tests, demos and
    single-process deployments that need no persistence.
    """

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self._store = store if store is not None else InMemoryStore()

    async def add(  # noqa: D102 - documented by the port
        self, user: User, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        store = self._store
        with store.lock:
            if user.email.value in store.ids_by_email:
                raise EmailTakenError(user.email.value)
            if user.id in store.users:
                raise ValueError(f"user {user.id} is already stored")
            store.users[user.id] = user
            store.ids_by_email[user.email.value] = user.id
            store.insert_user_id(user.id)
            store.append_events(events)

    async def add_many(self, users: Sequence[User]) -> set[UserId]:  # noqa: D102
        store = self._store
        stored: set[UserId] = set()
        with store.lock:
            for user in users:
                if user.id in store.users or user.email.value in store.ids_by_email:
                    continue
                store.users[user.id] = user
                store.ids_by_email[user.email.value] = user.id
                store.insert_user_id(user.id)
                stored.add(user.id)
        return stored

    async def get(self, user_id: UserId) -> User | None:  # noqa: D102
        return self._store.users.get(user_id)

    async def get_many(self, user_ids: Sequence[UserId]) -> list[User]:  # noqa: D102
        users = self._store.users
        return [users[user_id] for user_id in user_ids if user_id in users]

    async def get_by_email(self, email: Email) -> User | None:  # noqa: D102
        store = self._store
        with store.lock:
            user_id = store.ids_by_email.get(email.value)
            return None if user_id is None else store.users[user_id]

    async def update(  # noqa: D102
        self, user: User, *, expected_version: int, events: Sequence[DomainEvent] = ()
    ) -> None:
        store = self._store
        with store.lock:
            stored = store.users.get(user.id)
            if stored is None:
                raise UserNotFoundError(user.id.value)
            if stored.version != expected_version:
                raise VersionConflictError(user.id.value, expected_version)
            if user.email != stored.email:
                if user.email.value in store.ids_by_email:
                    raise EmailTakenError(user.email.value)
                del store.ids_by_email[stored.email.value]
                store.ids_by_email[user.email.value] = user.id
            store.users[user.id] = user
            store.append_events(events)

    async def delete(  # noqa: D102
        self, user_id: UserId, *, events: Sequence[DomainEvent] = ()
    ) -> bool:
        with self._store.lock:
            if not self._store.remove_user(user_id):
                return False
            self._store.append_events(events)
            return True

    async def list(self, query: UserQuery) -> Page[User]:  # noqa: D102
        store = self._store
        with store.lock:
            ids = store.sorted_ids
            start = 0 if query.after is None else bisect.bisect_right(ids, query.after)
            # Walk indices rather than slicing: a slice would copy the whole
            # tail, making every page cost as much as the table is long.
            candidates = (store.users[ids[i]] for i in range(start, len(ids)))
            matching = (user for user in candidates if _matches(user, query))
            rows = list(itertools.islice(matching, query.limit + 1))
        return user_page(rows, query.limit)

    async def ping(self) -> None:  # noqa: D102
        return None


def _matches(user: User, query: UserQuery) -> bool:
    return (
        (query.email_prefix is None or user.email.value.startswith(query.email_prefix))
        and (query.role is None or query.role in user.roles)
        and (query.is_active is None or user.is_active == query.is_active)
    )
