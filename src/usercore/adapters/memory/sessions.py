"""InMemorySessionRepository: the SessionRepository port in process memory."""

from __future__ import annotations

from datetime import datetime

from usercore.adapters.memory.store import InMemoryStore
from usercore.domain.errors import UserNotFoundError
from usercore.domain.ids import UserId
from usercore.domain.sessions import Session
from usercore.ports.sessions import SessionRepository


class InMemorySessionRepository(SessionRepository):
    """Sessions in a dict, indexed by user; shares its store with the user repository."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def add(self, session: Session) -> None:  # noqa: D102 - documented by the port
        store = self._store
        with store.lock:
            if session.user_id not in store.users:
                raise UserNotFoundError(session.user_id.value)
            if session.id in store.sessions:
                raise ValueError(f"session {session.id} is already stored")
            store.sessions[session.id] = session
            store.session_ids_by_user.setdefault(session.user_id, set()).add(session.id)

    async def get(self, session_id: str) -> Session | None:  # noqa: D102
        return self._store.sessions.get(session_id)

    async def rotate(self, current: Session, rotated: Session) -> bool:  # noqa: D102
        store = self._store
        with store.lock:
            stored = store.sessions.get(current.id)
            if (
                stored is None
                or stored.revoked_at is not None
                or stored.token_hash != current.token_hash
                or stored.generation != current.generation
            ):
                return False
            store.sessions[current.id] = rotated
            return True

    async def revoke(self, session_id: str, *, now: datetime) -> bool:  # noqa: D102
        store = self._store
        with store.lock:
            stored = store.sessions.get(session_id)
            if stored is None or stored.revoked_at is not None:
                return False
            store.sessions[session_id] = stored.revoked(now=now)
            return True

    async def revoke_all(self, user_id: UserId, *, now: datetime) -> int:  # noqa: D102
        store = self._store
        with store.lock:
            live = [
                store.sessions[session_id]
                for session_id in store.session_ids_by_user.get(user_id, ())
                if store.sessions[session_id].revoked_at is None
            ]
            for session in live:
                store.sessions[session.id] = session.revoked(now=now)
            return len(live)

    async def list_for_user(self, user_id: UserId) -> list[Session]:  # noqa: D102
        store = self._store
        with store.lock:
            ids = store.session_ids_by_user.get(user_id, ())
            sessions = [store.sessions[session_id] for session_id in ids]
        return sorted(sessions, key=lambda s: (s.created_at, s.id))

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        store = self._store
        with store.lock:
            expired = [s for s in store.sessions.values() if not s.is_live(now)]
            for session in expired:
                del store.sessions[session.id]
                store.session_ids_by_user[session.user_id].discard(session.id)
            return len(expired)
