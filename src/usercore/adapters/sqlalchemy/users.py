"""SqlAlchemyUserRepository: the UserRepository port on SQLite or PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.errors import integrity_kind
from usercore.adapters.sqlalchemy.tables import users
from usercore.domain.email import Email
from usercore.domain.errors import EmailTakenError, UserNotFoundError, VersionConflictError
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery, user_page
from usercore.domain.user import User
from usercore.ports.users import UserRepository

# Statements are built once; SQLAlchemy caches their compiled form per dialect.
_GET = sa.select(users).where(users.c.id == sa.bindparam("id"))
_GET_BY_EMAIL = sa.select(users).where(users.c.email == sa.bindparam("email"))
_VERSION = sa.select(users.c.version).where(users.c.id == sa.bindparam("id"))
_INSERT = users.insert()
_UPDATE = users.update().where(
    users.c.id == sa.bindparam("where_id"), users.c.version == sa.bindparam("where_version")
)
_DELETE = users.delete().where(users.c.id == sa.bindparam("id"))
_ROLE_ARRAY = postgresql.ARRAY(sa.Text())
_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


class SqlAlchemyUserRepository(UserRepository):
    """Users in the ``usercore_users`` table.

    Every method is one SQL statement (two for a failed update, to tell a
    missing user from a stale version), so each is atomic on its own.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._db = database
        self._codec = database.codec

    async def add(self, user: User) -> None:  # noqa: D102 - documented by the port
        row = self._codec.user_to_row(user)
        async with self._db.connect(write=True) as conn:
            try:
                await conn.execute(_INSERT, row)
            except sa_exc.IntegrityError as exc:
                error = _clash(exc, user)
                if not isinstance(error, EmailTakenError):
                    # An id clash may hide an email clash; the email is the one to report.
                    found = await conn.execute(_GET_BY_EMAIL, {"email": user.email.value})
                    if found.first() is not None:
                        error = EmailTakenError(user.email.value)
                raise error from exc

    async def get(self, user_id: UserId) -> User | None:  # noqa: D102
        async with self._db.connect(write=False) as conn:
            row = (await conn.execute(_GET, {"id": user_id.value})).first()
        return None if row is None else self._codec.user_to_domain(row)

    async def get_by_email(self, email: Email) -> User | None:  # noqa: D102
        async with self._db.connect(write=False) as conn:
            row = (await conn.execute(_GET_BY_EMAIL, {"email": email.value})).first()
        return None if row is None else self._codec.user_to_domain(row)

    async def update(self, user: User, *, expected_version: int) -> None:  # noqa: D102
        row = self._codec.user_to_row(user)
        del row["id"]
        row["where_id"] = user.id.value
        row["where_version"] = expected_version
        async with self._db.connect(write=True) as conn:
            try:
                result = await conn.execute(_UPDATE, row)
            except sa_exc.IntegrityError as exc:
                raise _clash(exc, user) from exc
            if result.rowcount == 1:
                return
            # Versions only grow, so a user that exists now was at another version.
            stored = (await conn.execute(_VERSION, {"id": user.id.value})).first()
        if stored is None:
            raise UserNotFoundError(user.id.value)
        raise VersionConflictError(user.id.value, expected_version)

    async def delete(self, user_id: UserId) -> bool:  # noqa: D102
        # Sessions go with the user: the foreign key cascades.
        async with self._db.connect(write=True) as conn:
            result = await conn.execute(_DELETE, {"id": user_id.value})
        return bool(result.rowcount == 1)

    async def list(self, query: UserQuery) -> Page[User]:  # noqa: D102
        conditions = _conditions(query, self._db.backend)
        if conditions is None:
            return Page(items=(), next_cursor=None)
        statement = sa.select(users).where(*conditions).order_by(users.c.id)
        async with self._db.connect(write=False) as conn:
            rows = (await conn.execute(statement.limit(query.limit + 1))).all()
        to_domain = self._codec.user_to_domain
        return user_page([to_domain(row) for row in rows], query.limit)

    async def ping(self) -> None:  # noqa: D102
        await self._db.ping()


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


def _conditions(query: UserQuery, backend: str) -> list[Any] | None:
    """The WHERE clauses of a listing; None when nothing can match."""
    conditions: list[Any] = []
    if query.after is not None:
        conditions.append(users.c.id > query.after.value)
    if query.email_prefix:
        bounds = prefix_range(query.email_prefix, nul_allowed=backend == "sqlite")
        if bounds is None:
            return None
        low, high = bounds
        # A range on the unique email index, never LIKE or lower() on the column.
        conditions.append(users.c.email >= low)
        if high is not None:
            conditions.append(users.c.email < high)
    if query.role is not None:
        if backend == "postgresql":
            roles = sa.type_coerce(users.c.roles, _ROLE_ARRAY)
            conditions.append(roles.contains([query.role.name]))
        else:
            conditions.append(sa.func.instr(users.c.roles, f"|{query.role.name}|") > 0)
    if query.is_active is not None:
        conditions.append(users.c.is_active == query.is_active)
    return conditions


def _clash(exc: sa_exc.IntegrityError, user: User) -> Exception:
    kind, detail = integrity_kind(exc)
    if kind == "unique" and "email" in detail:
        return EmailTakenError(user.email.value)
    if kind == "unique":
        return ValueError(f"user {user.id} is already stored")
    return ValueError(f"user {user.id} breaks a storage constraint ({kind})")
