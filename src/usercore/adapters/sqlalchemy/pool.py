"""PostgreSQL statements on an asyncpg pool of the adapter's own.

SQLAlchemy stays the SQL layer: each statement is compiled once, with the
engine's asyncpg dialect (``$1..$n`` placeholders), and its parameters are
passed in the compiled order. Only the execution skips SQLAlchemy's
``AsyncConnection`` machinery (a greenlet per checkout, result wrapping),
which cost about twice the statement itself on a fast read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from usercore.adapters.sqlalchemy.engine import ConnectSettings
from usercore.adapters.sqlalchemy.errors import unavailable
from usercore.adapters.sqlalchemy.executors import ConstraintViolationError, Row, Statement

#: Driver failures that mean "storage trouble" (server errors included:
#: too many connections, statement timeout, shutting down).
_FAILURES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
    TimeoutError,
)
#: Idle connections are closed after this long, so an idle worker gives its
#: server connections back.
_IDLE_SECONDS = 60.0


async def _keep_session(_connection: Any) -> None:
    """Nothing to reset when a connection returns to the pool.

    Every operation is one autocommit statement: none opens a transaction,
    sets a session parameter, listens or takes an advisory lock, so the
    default reset (one more round trip per operation) would find nothing.
    """


class PoolExecutor:
    """Statements on an asyncpg pool, created on first use.

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
        self._options = pool_options(settings, engine.dialect)
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._compiled: dict[Statement, tuple[str, tuple[str, ...]]] = {}

    async def fetch_one(  # noqa: D102 - documented by Executor
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Row | None:
        sql, args = self._bind(statement, params)
        row: Row | None = await self._run(lambda conn: conn.fetchrow(sql, *args))
        return row

    async def fetch_all(  # noqa: D102
        self, statement: Statement, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        sql, args = self._bind(statement, params)
        rows: Sequence[Row] = await self._run(lambda conn: conn.fetch(sql, *args))
        return rows

    async def execute(self, statement: Statement, params: Mapping[str, Any]) -> int:  # noqa: D102
        sql, args = self._bind(statement, params)
        try:
            status: str = await self._run(lambda conn: conn.execute(sql, *args))
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise ConstraintViolationError(_violation_kind(exc), exc.constraint_name or "") from exc
        # The command tag ends with the row count: "UPDATE 1", "INSERT 0 1".
        return int(status.rpartition(" ")[2])

    async def ping(self) -> None:  # noqa: D102
        await self._run(lambda conn: conn.execute("SELECT 1"))

    async def dispose(self) -> None:  # noqa: D102
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            async with asyncio.timeout(self._timeout):
                await pool.close()
        except _FAILURES:
            pool.terminate()

    def _bind(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        compiled = self._compiled.get(statement)
        if compiled is None:
            compiled = self._compiled[statement] = statement.compile_for(self._dialect)
        sql, names = compiled
        args = [params[name] for name in names]
        if self.statement_hook is not None:
            self.statement_hook(sql, tuple(args))
        return sql, args

    async def _run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                if not self._schema_ready:
                    await self._ensure_schema()
                    self._schema_ready = True
                pool = self._pool if self._pool is not None else await self._open()
                conn = await pool.acquire()
                try:
                    return await work(conn)
                except asyncpg.PostgresError:
                    raise  # the server answered: the connection is fine
                except BaseException:
                    # Cut or timed out mid-statement: its state is unknown,
                    # so it is closed, and the pool connects afresh next time.
                    conn.terminate()
                    raise
                finally:
                    await pool.release(conn)
        except asyncpg.IntegrityConstraintViolationError:
            raise
        except _FAILURES as exc:
            raise unavailable("postgresql", exc, timeout=self._timeout) from exc

    async def _open(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                # min_size=0: creating the pool connects nothing, so it can't fail.
                self._pool = await asyncpg.create_pool(**self._options)
        return self._pool


def pool_options(settings: ConnectSettings, dialect: sa.Dialect) -> dict[str, Any]:
    """The ``asyncpg.create_pool`` arguments for ``settings``.

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
    return {
        **connect,
        "min_size": 0,
        "max_size": settings.pool_size + settings.max_overflow,
        "max_inactive_connection_lifetime": _IDLE_SECONDS,
        "reset": _keep_session,
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
