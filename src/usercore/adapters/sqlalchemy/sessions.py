"""SqlAlchemySessionRepository: the SessionRepository port on SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import ConstraintViolationError, Statement
from usercore.adapters.sqlalchemy.outcomes import NOT_SEEN, NotSeen, settle
from usercore.adapters.sqlalchemy.tables import sessions
from usercore.domain.errors import UserNotFoundError
from usercore.domain.ids import UserId
from usercore.domain.sessions import Session
from usercore.domain.timestamps import utc_millis
from usercore.ports.errors import OutcomeUnknownError
from usercore.ports.sessions import SessionRepository

_INSERT = Statement(sessions.insert())
_GET = Statement(sa.select(sessions).where(sessions.c.id == sa.bindparam("id")))
_ROTATE = Statement(
    sessions.update().where(
        sessions.c.id == sa.bindparam("where_id"),
        sessions.c.token_hash == sa.bindparam("where_token_hash"),
        sessions.c.generation == sa.bindparam("where_generation"),
        sessions.c.revoked_at.is_(None),
    ),
    column_keys=[column.name for column in sessions.c if column.name != "id"],
)
_REVOKE = Statement(
    sessions.update()
    .where(sessions.c.id == sa.bindparam("where_id"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_REVOKE_ALL = Statement(
    sessions.update()
    .where(sessions.c.user_id == sa.bindparam("where_user_id"), sessions.c.revoked_at.is_(None))
    .values(revoked_at=sa.bindparam("now"))
)
_LIST = Statement(
    sa.select(sessions)
    .where(sessions.c.user_id == sa.bindparam("user_id"))
    .order_by(sessions.c.created_at, sessions.c.id)
)
_PURGE = Statement(
    sessions.delete().where(
        sa.or_(sessions.c.expires_at <= sa.bindparam("now"), sessions.c.revoked_at.is_not(None))
    )
)


class SqlAlchemySessionRepository(SessionRepository):
    """Sessions in the ``usercore_sessions`` table.

    A foreign key to the user, ``ON DELETE CASCADE``, removes a deleted
    user's sessions in the same statement. Every method is one statement.

    A lost answer to ``add``, ``rotate`` or ``revoke`` is settled by reading
    the row back, as in ``SqlAlchemyUserRepository``; above all, a rotation
    that committed reports True, so the caller does not take its own retry
    for token reuse.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._run = database.executor
        self._codec = database.codec

    async def add(self, session: Session) -> None:  # noqa: D102 - documented by the port
        row = self._codec.session_to_row(session)

        async def read_back() -> NotSeen | None:
            return None if await self.get(session.id) == session else NOT_SEEN

        try:
            await self._run.execute(_INSERT, row)
        except OutcomeUnknownError as unknown:
            await settle(unknown, read_back)
        except ConstraintViolationError as exc:
            if exc.kind == "foreign_key":
                raise UserNotFoundError(session.user_id.value) from exc
            raise ValueError(f"session {session.id} is already stored") from exc

    async def get(self, session_id: str) -> Session | None:  # noqa: D102
        row = await self._run.fetch_one(_GET, {"id": session_id})
        return None if row is None else self._codec.session_to_domain(row)

    async def rotate(self, current: Session, rotated: Session) -> bool:  # noqa: D102
        row = self._codec.session_to_row(rotated)
        del row["id"]
        row["where_id"] = current.id
        row["where_token_hash"] = current.token_hash
        row["where_generation"] = current.generation

        async def read_back() -> bool | NotSeen:
            stored = await self.get(current.id)
            if stored == rotated:
                return True
            # Still the current generation: neither this rotation nor another.
            return NOT_SEEN if stored == current else False

        try:
            changed = await self._run.execute(_ROTATE, row)
        except OutcomeUnknownError as unknown:
            return await settle(unknown, read_back)
        return changed == 1

    async def revoke(self, session_id: str, *, now: datetime) -> bool:  # noqa: D102
        params = {"where_id": session_id, "now": self._codec.time_in(now)}

        async def read_back() -> bool | NotSeen:
            stored = await self.get(session_id)
            if stored is not None and stored.revoked_at is None:
                return NOT_SEEN
            # Revoked at this very millisecond: this call (or its twin) did it.
            return stored is not None and stored.revoked_at == utc_millis(now)

        try:
            changed = await self._run.execute(_REVOKE, params)
        except OutcomeUnknownError as unknown:
            return await settle(unknown, read_back)
        return changed == 1

    async def revoke_all(self, user_id: UserId, *, now: datetime) -> int:  # noqa: D102
        params = {"where_user_id": user_id.value, "now": self._codec.time_in(now)}
        return await self._run.execute(_REVOKE_ALL, params)

    async def list_for_user(self, user_id: UserId) -> list[Session]:  # noqa: D102
        rows = await self._run.fetch_all(_LIST, {"user_id": user_id.value})
        to_domain = self._codec.session_to_domain
        return [to_domain(row) for row in rows]

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        params = {"now": self._codec.time_in(now)}
        return await self._run.execute(_PURGE, params)
