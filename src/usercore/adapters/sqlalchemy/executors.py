"""How the repositories run their statements: one interface, one implementation per engine kind.

The repositories build SQLAlchemy Core statements once and hand them, with
their parameters, to an :class:`Executor`; they never touch a driver. SQLite
runs them on SQLAlchemy's ``AsyncConnection`` (:class:`ConnectionExecutor`);
PostgreSQL on an asyncpg pool of the adapter's own
(``usercore.adapters.sqlalchemy.pool``), with the SQL SQLAlchemy compiled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection

from usercore.adapters.sqlalchemy.errors import integrity_kind

#: A result row: SQLAlchemy's ``Row`` or asyncpg's ``Record``, both sequences
#: of the selected columns in order.
Row = Sequence[Any]


class Statement:
    """A Core statement, built once at import, with what compiling it needs.

    Args:
        clause: The statement; every value is a named ``bindparam``.
        column_keys: For an UPDATE whose SET columns come from the parameters,
            those columns (SQLAlchemy otherwise infers them per execution).
    """

    __slots__ = ("clause", "column_keys")

    def __init__(self, clause: sa.Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.clause = clause
        self.column_keys = None if column_keys is None else list(column_keys)

    def compile_for(self, dialect: sa.Dialect) -> tuple[str, tuple[str, ...]]:
        """The SQL for ``dialect`` and the names of its positional parameters, in order."""
        compiled = self.clause.compile(dialect=dialect, column_keys=self.column_keys)  # type: ignore[attr-defined]
        return compiled.string, tuple(compiled.positiontup or ())


class ConstraintViolationError(Exception):
    """A statement broke a constraint: the repository turns it into the port's error.

    Attributes:
        kind: ``unique``, ``foreign_key`` or ``other``.
        detail: The constraint's name (PostgreSQL) or column (SQLite).
    """

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


class Executor(Protocol):
    """Runs statements within the time bound, after the schema check.

    Every method raises ``StorageUnavailableError`` when the database fails
    or does not answer in time, and ``SchemaOutOfDateError`` when its schema
    is behind; :meth:`execute` and :meth:`write_one` raise
    :class:`ConstraintViolationError` too.
    """

    async def fetch_one(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """The first row ``statement`` selects, or None."""

    async def fetch_all(self, statement: Statement, params: Mapping[str, Any]) -> Sequence[Row]:
        """Every row ``statement`` selects."""

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:
        """Run a write; the number of rows it changed."""

    async def write_one(self, statement: Statement, params: Mapping[str, Any]) -> Row | None:
        """Run a write with ``RETURNING``; the first row it returns, or None."""

    async def write_all(self, statement: Statement, params: Mapping[str, Any]) -> Sequence[Row]:
        """Run a write with ``RETURNING``; every row it returns."""

    async def write_together(self, steps: Steps, *, unless_first_changed_nothing: bool) -> int:
        """Run writes in one transaction: all of them are committed, or none.

        With ``unless_first_changed_nothing`` the writes after the first run
        only when the first changed a row (a compare-and-set that missed
        writes nothing else).

        Returns:
            How many rows the first write changed.
        """

    async def fetch_all_after(
        self, steps: Steps, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        """Every row ``statement`` selects, run after ``steps`` in one transaction."""

    async def ping(self) -> None:
        """Return when the database answers (and its schema is usable)."""

    async def dispose(self) -> None:
        """Close every connection kept open; the executor may still be used after."""


#: Statements with their parameters, to run in order.
Steps = Sequence[tuple[Statement, Mapping[str, Any]]]

#: Opens a connection for one operation (``SqlAlchemyDatabase.connect``).
Connector = Callable[..., contextlib.AbstractAsyncContextManager[AsyncConnection]]


class ConnectionExecutor:
    """Statements on SQLAlchemy's ``AsyncConnection`` (SQLite)."""

    def __init__(self, connect: Connector) -> None:
        self._connect = connect

    async def fetch_one(  # noqa: D102 - documented by Executor
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Row | None:
        async with self._connect(write=False) as conn:
            return (await conn.execute(statement.clause, params)).first()

    async def fetch_all(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        async with self._connect(write=False) as conn:
            return (await conn.execute(statement.clause, params)).all()

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:  # noqa: D102
        async with self._connect(write=True) as conn:
            try:
                result = await conn.execute(statement.clause, params)
            except sa_exc.IntegrityError as exc:
                raise ConstraintViolationError(*integrity_kind(exc)) from exc
        return int(result.rowcount)

    async def write_one(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Row | None:
        async with self._connect(write=True) as conn:
            try:
                return (await conn.execute(statement.clause, params)).first()
            except sa_exc.IntegrityError as exc:
                raise ConstraintViolationError(*integrity_kind(exc)) from exc

    async def write_all(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        async with self._connect(write=True) as conn:
            try:
                return (await conn.execute(statement.clause, params)).all()
            except sa_exc.IntegrityError as exc:
                raise ConstraintViolationError(*integrity_kind(exc)) from exc

    async def write_together(  # noqa: D102
        self, steps: Steps, *, unless_first_changed_nothing: bool
    ) -> int:
        first = 0
        async with self._connect(write=True) as conn:
            # The engine leaves transactions to us (autocommit): IMMEDIATE takes
            # the write lock up front, as the migrations do.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                for index, (statement, params) in enumerate(steps):
                    changed = int((await conn.execute(statement.clause, params)).rowcount)
                    if index == 0:
                        first = changed
                        if unless_first_changed_nothing and not changed:
                            break
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await conn.exec_driver_sql("ROLLBACK")
                if isinstance(exc, sa_exc.IntegrityError):
                    raise ConstraintViolationError(*integrity_kind(exc)) from exc
                raise
            await conn.exec_driver_sql("COMMIT")
        return first

    async def fetch_all_after(  # noqa: D102
        self, steps: Steps, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        if not steps:
            return await self.fetch_all(statement, params)
        async with self._connect(write=True) as conn:
            await conn.exec_driver_sql("BEGIN")
            try:
                for step, step_params in steps:
                    await conn.execute(step.clause, step_params)
                rows = (await conn.execute(statement.clause, params)).all()
            except BaseException:
                with contextlib.suppress(Exception):
                    await conn.exec_driver_sql("ROLLBACK")
                raise
            await conn.exec_driver_sql("COMMIT")
        return rows

    async def ping(self) -> None:  # noqa: D102
        async with self._connect(write=False) as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        """Nothing: the connections are the engine's, which its owner disposes of."""
