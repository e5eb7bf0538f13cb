"""SqlAlchemyUserRepository: the UserRepository port on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from usercore.adapters.sqlalchemy.batches import get_many_statement, insert_statement
from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import ConstraintViolationError, Statement, Steps
from usercore.adapters.sqlalchemy.outbox import announcing, event_params, outbox_steps
from usercore.adapters.sqlalchemy.outcomes import NOT_SEEN, NotSeen, settle
from usercore.adapters.sqlalchemy.tables import users
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.events import DomainEvent
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery, user_page
from usercore.domain.user import User
from usercore.ports.errors import OutcomeUnknownError
from usercore.ports.users import UserRepository

# Statements are built once, every value a bind parameter, so each compiles once.
_GET = Statement(sa.select(users).where(users.c.id == sa.bindparam("id")))
_GET_BY_EMAIL = Statement(sa.select(users).where(users.c.email == sa.bindparam("email")))
_VERSION = Statement(sa.select(users.c.version).where(users.c.id == sa.bindparam("id")))
_INSERT = Statement(users.insert())
_UPDATE = Statement(
    users.update().where(
        users.c.id == sa.bindparam("where_id"), users.c.version == sa.bindparam("where_version")
    ),
    column_keys=[column.name for column in users.c if column.name != "id"],
)
_DELETE = Statement(users.delete().where(users.c.id == sa.bindparam("id")))
# On PostgreSQL a change with one event is one statement (outbox.announcing):
# the same three writes, their values as u_ parameters.
_USER_VALUES: dict[str, Any] = {column.name: sa.bindparam(f"u_{column.name}") for column in users.c}
_ANNOUNCED = {
    _INSERT: announcing(users.insert().values(_USER_VALUES).returning(users.c.id)),
    _UPDATE: announcing(
        users.update()
        .where(
            users.c.id == sa.bindparam("u_where_id"),
            users.c.version == sa.bindparam("u_where_version"),
        )
        .values({k: v for k, v in _USER_VALUES.items() if k != "id"})
        .returning(users.c.id)
    ),
    _DELETE: announcing(
        users.delete().where(users.c.id == sa.bindparam("u_id")).returning(users.c.id)
    ),
}
_ROLE_ARRAY = postgresql.ARRAY(sa.Text())
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


class SqlAlchemyUserRepository(UserRepository):
    """Users in the ``usercore_users`` table.

    Every method is one SQL statement (two for a failed update, to tell a
    missing user from a stale version), so each is atomic on its own. A
    change with events is atomic with them: on PostgreSQL with one event one
    statement, else one transaction (see ``outbox.py``).

    When the answer to ``add`` or ``update`` is lost after the statement was
    sent (the connection broke, the time ran out: it may have committed),
    the row is read back: exactly what was written is success (and its events
    were written with it), a conflicting write is ``EmailTakenError`` /
    ``VersionConflictError``, neither is ``OutcomeUnknownError``. Other
    writes raise that unsettled.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._db = database
        self._run = database.executor
        self._codec = database.codec

    async def add(  # noqa: D102 - documented by the port
        self, user: User, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        row = self._codec.user_to_row(user)

        async def read_back() -> NotSeen | None:
            if await self.get(user.id) == user:
                return None
            if await self._run.fetch_one(_GET_BY_EMAIL, {"email": user.email.value}):
                raise EmailTakenError(user.email.value)
            return NOT_SEEN

        try:
            await self._write(_INSERT, row, events)
        except OutcomeUnknownError as unknown:
            await settle(unknown, read_back)
        except ConstraintViolationError as exc:
            error = _clash(exc, user)
            if not isinstance(error, EmailTakenError):
                # An id clash may hide an email clash; the email is the one to report.
                found = await self._run.fetch_one(_GET_BY_EMAIL, {"email": user.email.value})
                if found is not None:
                    error = EmailTakenError(user.email.value)
            raise error from exc

    async def add_many(self, users: Sequence[User]) -> set[UserId]:  # noqa: D102
        if not users:
            return set()
        statement, params = insert_statement(self._db.backend, self._codec, users)
        rows = await self._run.write_all(statement, params)
        return {UserId(row[0]) for row in rows}

    async def get_many(self, user_ids: Sequence[UserId]) -> list[User]:  # noqa: D102
        if not user_ids:
            return []
        statement, params = get_many_statement(self._db.backend, user_ids)
        to_domain = self._codec.user_to_domain
        return [to_domain(row) for row in await self._run.fetch_all(statement, params)]

    async def get(self, user_id: UserId) -> User | None:  # noqa: D102
        row = await self._run.fetch_one(_GET, {"id": user_id.value})
        return None if row is None else self._codec.user_to_domain(row)

    async def get_by_email(self, email: Email) -> User | None:  # noqa: D102
        row = await self._run.fetch_one(_GET_BY_EMAIL, {"email": email.value})
        return None if row is None else self._codec.user_to_domain(row)

    async def update(  # noqa: D102
        self, user: User, *, expected_version: int, events: Sequence[DomainEvent] = ()
    ) -> None:
        row = self._codec.user_to_row(user)
        del row["id"]
        row["where_id"] = user.id.value
        row["where_version"] = expected_version

        async def read_back() -> NotSeen | None:
            stored = await self.get(user.id)
            if stored is None:
                raise UserNotFoundError(user.id.value)
            if stored == user:
                return None
            if stored.version == expected_version:
                return NOT_SEEN  # neither this write nor anyone else's
            raise VersionConflictError(user.id.value, expected_version)

        try:
            changed = await self._write(_UPDATE, row, events)
        except OutcomeUnknownError as unknown:
            await settle(unknown, read_back)
            return
        except ConstraintViolationError as exc:
            raise _clash(exc, user) from exc
        if changed == 1:
            return
        # Versions only grow, so a user that exists now was at another version.
        stored = await self._run.fetch_one(_VERSION, {"id": user.id.value})
        if stored is None:
            raise UserNotFoundError(user.id.value)
        raise VersionConflictError(user.id.value, expected_version)

    async def delete(  # noqa: D102
        self, user_id: UserId, *, events: Sequence[DomainEvent] = ()
    ) -> bool:
        # Sessions go with the user: the foreign key cascades.
        return await self._write(_DELETE, {"id": user_id.value}, events) == 1

    async def list(self, query: UserQuery) -> Page[User]:  # noqa: D102
        params = _filters(query, self._db.backend)
        if params is None:
            return Page(items=(), next_cursor=None)
        statement = _listing(self._db.backend, frozenset(params))
        params["limit"] = query.limit + 1
        rows = await self._run.fetch_all(statement, params)
        to_domain = self._codec.user_to_domain
        return user_page([to_domain(row) for row in rows], query.limit)

    async def ping(self) -> None:  # noqa: D102
        await self._db.ping()

    async def _write(
        self, statement: Statement, params: dict[str, Any], events: Sequence[DomainEvent]
    ) -> int:
        """Run one write; with events, atomically with their outbox rows."""
        if not events:
            return await self._run.execute(statement, params)
        if len(events) == 1 and self._db.backend == "postgresql":
            combined = {f"u_{name}": value for name, value in params.items()}
            combined.update(event_params(self._db, events[0]))
            return await self._run.execute(_ANNOUNCED[statement], combined)
        steps: Steps = [(statement, params), *outbox_steps(self._db, events)]
        return await self._run.write_together(steps, unless_first_changed_nothing=True)


def prefix_range(prefix: str, *, nul_allowed: bool) -> tuple[str, str | None] | None:
    """The half-open range ``[low, high)`` of strings starting with ``prefix``, in code point order.

    ``high`` is None when no upper bound is needed. Returns None when no
    stored email can start with ``prefix`` (it can't be stored as UTF-8).
    """
    try:
        prefix.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if not nul_allowed and "\x00" in prefix:
        return None
    stem = prefix.rstrip(chr(_MAX_CODE_POINT))
    if not stem:
        return prefix, None
    following = ord(stem[-1]) + 1
    if following in _SURROGATES:
        following = _SURROGATES.stop
    return prefix, stem[:-1] + chr(following)


def _filters(query: UserQuery, backend: str) -> dict[str, Any] | None:
    """The parameters of a listing's filters, by name; None when nothing can match."""
    params: dict[str, Any] = {}
    if query.after is not None:
        params["after"] = query.after.value
    if query.email_prefix:
        bounds = prefix_range(query.email_prefix, nul_allowed=backend == "sqlite")
        if bounds is None:
            return None
        params["email_low"], high = bounds
        if high is not None:
            params["email_high"] = high
    if query.role is not None:
        if backend == "postgresql":
            params["role"] = [query.role.name]
        else:
            params["role"] = f"|{query.role.name}|"
    if query.is_active is not None:
        params["is_active"] = query.is_active
    return params


# One statement per combination of filters (at most 32 per backend), built
# and compiled once each.
@functools.cache
def _listing(backend: str, filters: frozenset[str]) -> Statement:
    conditions: list[Any] = []
    if "after" in filters:
        conditions.append(users.c.id > sa.bindparam("after"))
    if "email_low" in filters:
        # A range on the unique email index, never LIKE or lower() on the column.
        conditions.append(users.c.email >= sa.bindparam("email_low"))
    if "email_high" in filters:
        conditions.append(users.c.email < sa.bindparam("email_high"))
    if "role" in filters:
        if backend == "postgresql":
            roles = sa.type_coerce(users.c.roles, _ROLE_ARRAY)
            conditions.append(roles.contains(sa.bindparam("role", type_=_ROLE_ARRAY)))
        else:
            marker = sa.bindparam("role", type_=sa.Text())
            conditions.append(sa.func.instr(users.c.roles, marker) > 0)
    if "is_active" in filters:
        conditions.append(users.c.is_active == sa.bindparam("is_active"))
    limit = sa.bindparam("limit", type_=sa.Integer())
    return Statement(sa.select(users).where(*conditions).order_by(users.c.id).limit(limit))


def _clash(exc: ConstraintViolationError, user: User) -> Exception:
    kind, detail = exc.kind, exc.detail
    if kind == "unique" and "email" in detail:
        return EmailTakenError(user.email.value)
    if kind == "unique":
        return ValueError(f"user {user.id} is already stored")
    return ValueError(f"user {user.id} breaks a storage constraint ({kind})")
