"""PostgreSQL statements on asyncpg connections in a pool of the adapter's own.

SQLAlchemy stays the SQL layer: each statement is compiled once, with the
engine's asyncpg dialect (``$1..$n`` placeholders), and its parameters are
passed in the compiled order. Only the execution skips SQLAlchemy's
``AsyncConnection`` machinery (a greenlet per checkout, result wrapping),
which cost about twice the statement itself on a fast read, and asyncpg's
general-purpose pool (see connections.py), which cost as much again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from usercore.adapters.sqlalchemy.connections import ConnectionPool, PoolClosedError
from usercore.adapters.sqlalchemy.engine import ConnectSettings
from usercore.adapters.sqlalchemy.errors import unavailable
from usercore.adapters.sqlalchemy.executors import ConstraintViolationError, Row, Statement, Steps
from usercore.ports.errors import OutcomeUnknownError

#: Driver failures that mean "storage trouble" (server errors included:
#: too many connections, statement timeout, shutting down).
_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
    PoolClosedError,  # disposed while the operation waited for a connection
)
#: Failures while a statement was on the line that leave its outcome unknown:
#: the connection broke, or the time ran out (asyncpg then asks the server to
#: cancel it, which may come after the commit).
_ANSWER_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    OSError,
    TimeoutError,
)
#: Idle connections are closed after this long, so an idle worker gives its
#: server connections back.
_IDLE_SECONDS = 60.0


class PoolExecutor:
    """Statements on pooled asyncpg connections, the pool made on first use.

    Each operation runs under one time bound: waiting for a connection and
    the statement share ``timeout_seconds`` (asyncpg's per-statement timeout
    takes what the wait left; it cancels the statement on the server).

    Args:
        settings: The URL (its options go to asyncpg), pool size and time bound.
        engine: The SQLAlchemy engine of the same database: its dialect compiles
            the statements.
        ensure_schema: Checks the schema; awaited until it first succeeds.

    Attributes:
        statement_hook: When set, called with the SQL and the positional
            arguments of every statement before it runs (for tracing and for
            tests that EXPLAIN what the adapter sends).
    """

    def __init__(
        self,
        settings: ConnectSettings,
        engine: AsyncEngine,
        ensure_schema: Callable[[], Awaitable[None]],
    ) -> None:
        self._timeout = settings.timeout_seconds
        self._dialect = engine.dialect
        self.statement_hook: Callable[[str, tuple[Any, ...]], None] | None = None
        self._ensure_schema = ensure_schema
        self._schema_ready = False
        self._connect_options = connect_options(settings, engine.dialect)
        self.max_connections = settings.pool_size + settings.max_overflow
        self._pool: ConnectionPool[Any] | None = None
        self._compiled: dict[Statement, tuple[str, tuple[str, ...]]] = {}

    async def fetch_one(  # noqa: D102 - documented by Executor
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Row | None:
        sql, args = self._bind(statement, params)
        row: Row | None = await self._run(lambda conn, t: conn.fetchrow(sql, *args, timeout=t))
        return row

    async def fetch_all(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        sql, args = self._bind(statement, params)
        rows: Sequence[Row] = await self._run(lambda conn, t: conn.fetch(sql, *args, timeout=t))
        return rows

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:  # noqa: D102
        sql, args = self._bind(statement, params)
        try:
            status: str = await self._run(
                lambda conn, t: conn.execute(sql, *args, timeout=t), write=True
            )
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolationError(_violation_kind(exc), exc.constraint_name or "") from exc
        # The command tag ends with the row count: "UPDATE 1", "INSERT 0 1".
        return int(status.rpartition(" ")[2])

    async def write_one(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Row | None:
        sql, args = self._bind(statement, params)
        try:
            row: Row | None = await self._run(
                lambda conn, t: conn.fetchrow(sql, *args, timeout=t), write=True
            )
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolationError(_violation_kind(exc), exc.constraint_name or "") from exc
        return row

    async def write_all(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        sql, args = self._bind(statement, params)
        try:
            rows: Sequence[Row] = await self._run(lambda conn, t: conn.fetch(sql, *args, timeout=t))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolationError(_violation_kind(exc), exc.constraint_name or "") from exc
        return rows

    async def write_together(  # noqa: D102
        self, steps: Steps, *, unless_first_changed_nothing: bool
    ) -> int:
        bound = [self._bind(statement, params) for statement, params in steps]

        async def work(conn: Any, time_left: float) -> int:
            first = 0
            async with conn.transaction():
                for index, (sql, args) in enumerate(bound):
                    status: str = await conn.execute(sql, *args, timeout=time_left)
                    if index == 0:
                        first = int(status.rpartition(" ")[2])
                        if unless_first_changed_nothing and not first:
                            break
            return first

        try:
            # A lost COMMIT may have applied the writes: read back or OutcomeUnknownError.
            return int(await self._run(work, write=True))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolationError(_violation_kind(exc), exc.constraint_name or "") from exc

    async def fetch_all_after(  # noqa: D102
        self, steps: Steps, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        before = [self._bind(step, step_params) for step, step_params in steps]
        sql, args = self._bind(statement, params)

        async def work(conn: Any, time_left: float) -> Sequence[Row]:
            async with conn.transaction():
                for step_sql, step_args in before:
                    await conn.execute(step_sql, *step_args, timeout=time_left)
                rows: Sequence[Row] = await conn.fetch(sql, *args, timeout=time_left)
            return rows

        rows: Sequence[Row] = await self._run(work)
        return rows

    async def ping(self) -> None:  # noqa: D102
        await self._run(lambda conn, t: conn.execute("SELECT 1", timeout=t))

    async def dispose(self) -> None:  # noqa: D102
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close(self._timeout)

    def _bind(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = statement.compile_for(self._dialect)
        sql, names = compiled
        args = [params[name] for name in names]
        if self.statement_hook is not None:
            self.statement_hook(sql, tuple(args))
        return sql, args

    async def _run(
        self, work: Callable[[Any, float], Awaitable[Any]], *, write: bool = False
    ) -> Any:
        """Run ``work`` on a pooled connection within the bound, translating failures.

        A write whose answer was lost once the statement was on the line (see
        ``_ANSWER_LOST``) raises ``OutcomeUnknownError``: every statement
        runs in autocommit, so it may have committed.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        try:
            pool = self._pool
            if pool is None or not self._schema_ready:
                async with asyncio.timeout(self._timeout):
                    pool = await self._ready()
            conn = await pool.acquire(deadline - loop.time())
            try:
                result = await work(conn, deadline - loop.time())
            except BaseException as exc:
                if isinstance(exc, asyncpg.PostgresError) and not isinstance(
                    exc, asyncpg.PostgresConnectionError
                ):
                    pool.release(conn)  # the server answered: the connection is fine
                    raise
                # Cut, timed out or cancelled mid-statement: its state is
                # unknown, so it is closed and a fresh one made next time.
                pool.discard(conn)
                if write and isinstance(exc, _ANSWER_LOST):
                    lost = unavailable("postgresql", exc, timeout=self._timeout)
                    raise OutcomeUnknownError(
                        "postgresql", f"{lost.reason}; the write may have been applied"
                    ) from exc
                raise
            else:
                pool.release(conn)
                return result
        except asyncpg.IntegrityConstraintViolationError:
            raise
        except _FAILURES as exc:
            raise unavailable("postgresql", exc, timeout=self._timeout) from exc

    async def _ready(self) -> ConnectionPool[Any]:
        if not self._schema_ready:
            await self._ensure_schema()
            self._schema_ready = True
        if self._pool is None:
            self._pool = ConnectionPool(
                self._connect, max_size=self.max_connections, idle_seconds=_IDLE_SECONDS
            )
        return self._pool

    async def _connect(self) -> Any:
        return await asyncpg.connect(**self._connect_options)


def connect_options(settings: ConnectSettings, dialect: sa.Dialect) -> dict[str, Any]:
    """The ``asyncpg.connect`` arguments for ``settings``.

    The URL is read by SQLAlchemy's asyncpg dialect, as for the engine, so the
    same URL options reach the driver; SQLAlchemy's name for the prepared
    statement cache, ``prepared_statement_cache_size``, means asyncpg's
    ``statement_cache_size`` here.

    Raises:
        ValueError: A cache size option is not a whole number.
    """
    _, connect = dialect.create_connect_args(settings.url)
    cache_size = connect.pop("prepared_statement_cache_size", None)
    cache_size = connect.pop("statement_cache_size", cache_size)
    connect.pop("prepared_statement_name_func", None)
    if cache_size is not None:
        try:
            connect["statement_cache_size"] = int(cache_size)
        except ValueError:
            raise ValueError("statement_cache_size must be a whole number") from None
    timeout = settings.timeout_seconds
    # Sessions need no reset between checkouts: every operation is one
    # autocommit statement, or one transaction that ends before the
    # connection goes back (its advisory lock with it); none sets a session
    # parameter or listens to anything.
    return {
        **connect,
        "timeout": timeout,
        "command_timeout": None,
        "server_settings": {
            "application_name": "usercore",
            "statement_timeout": str(int(timeout * 1000)),
        },
    }


def _violation_kind(exc: Exception) -> str:
    if isinstance(exc, asyncpg.UniqueViolationError):
        return "unique"
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return "foreign_key"
    return "other"
