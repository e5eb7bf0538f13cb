"""Engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), configured for bounded waits."""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import event, pool
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

#: The driver each accepted URL scheme runs on.
DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_SQLITE_SYNC_MODES = ("off", "normal", "full", "extra")


@attrs.frozen
class ConnectSettings:
    """How to connect, from the database URL and the settings.

    The URL's query may override the settings: ``pool_size``, ``max_overflow``,
    ``timeout`` (seconds, the bound on every operation) and, for SQLite,
    ``synchronous`` (``normal`` by default: durable across process crashes
    in WAL mode; ``full`` also across power loss). Other query parameters go
    to the driver.
    """

    url: sa.URL
    pool_size: int
    max_overflow: int
    timeout_seconds: float
    sqlite_synchronous: str = "normal"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    @property
    def in_memory(self) -> bool:
        """Whether this is a private in-memory SQLite database."""
        return self.dialect == "sqlite" and self.url.database in (None, "", ":memory:")

    @classmethod
    def parse(cls, database_url: str, *, pool_size: int, timeout_seconds: float) -> ConnectSettings:
        """Read a ``sqlite[+aiosqlite]://`` or ``postgresql[+asyncpg]://`` URL.

        Raises:
            ValueError: Another scheme, or an unusable option value.
        """
        url = sa.make_url(database_url)
        driver = DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(f"unsupported scheme {url.drivername!r}")
        query = dict(url.query)
        options: dict[str, Any] = {
            "pool_size": pool_size,
            # The pool size is the cap on connections per process, so that an
            # operator can size the server's max_connections as workers x pool_size.
            "max_overflow": 0,
            "timeout_seconds": timeout_seconds,
        }
        for key, option, kind in (
            ("pool_size", "pool_size", int),
            ("max_overflow", "max_overflow", int),
            ("timeout", "timeout_seconds", float),
        ):
            if key in query:
                options[option] = _number(key, query.pop(key), kind)
        if "synchronous" in query and driver.startswith("sqlite"):
            mode = str(query.pop("synchronous")).lower()
            if mode not in _SQLITE_SYNC_MODES:
                raise ValueError(f"synchronous must be one of {', '.join(_SQLITE_SYNC_MODES)}")
            options["sqlite_synchronous"] = mode
        if options["timeout_seconds"] <= 0 or options["pool_size"] < 1:
            raise ValueError("timeout and pool_size must be positive")
        if options["max_overflow"] < 0:
            raise ValueError("max_overflow must be 0 or more")
        return cls(url=url.set(drivername=driver, query=query), **options)


def _number(key: str, raw: str | tuple[str, ...], kind: type[float] | type[int]) -> Any:
    try:
        return kind(raw if isinstance(raw, str) else raw[-1])
    except ValueError:
        raise ValueError(f"the URL option {key} must be a number") from None


def create_engine(settings: ConnectSettings, *, autocommit: bool = True) -> AsyncEngine:
    """An engine for ``settings``; no connection is made until first use.

    Repositories use autocommit engines: each of their operations is one
    statement, atomic by itself, so it needs one round trip and no
    BEGIN/COMMIT. Migrations use a transactional engine (``autocommit=False``).
    """
    if settings.dialect == "sqlite":
        return _sqlite_engine(settings, autocommit=autocommit)
    return _postgres_engine(settings, autocommit=autocommit)


def _postgres_engine(settings: ConnectSettings, *, autocommit: bool) -> AsyncEngine:
    timeout = settings.timeout_seconds
    # Migrations may build indexes on big tables: only repository work gets
    # the statement timeout.
    server_settings = {"application_name": "usercore"}
    if autocommit:
        server_settings["statement_timeout"] = str(int(timeout * 1000))
    # No pool: repositories run on the adapter's asyncpg pool (pool.py); this
    # engine only checks the schema once and migrates, so it keeps nothing open.
    connect_args: dict[str, Any] = {
        "timeout": timeout,
        "command_timeout": timeout if autocommit else None,
        "server_settings": server_settings,
    }
    query = dict(settings.url.query)
    if "statement_cache_size" in query:
        # asyncpg's own option, which SQLAlchemy would pass on as text.
        connect_args["statement_cache_size"] = _number(
            "statement_cache_size", query.pop("statement_cache_size"), int
        )
    return create_async_engine(
        settings.url.set(query=query),
        isolation_level="AUTOCOMMIT" if autocommit else "READ COMMITTED",
        poolclass=pool.NullPool,
        connect_args=connect_args,
    )


def _sqlite_engine(settings: ConnectSettings, *, autocommit: bool) -> AsyncEngine:
    busy_ms = int(settings.timeout_seconds * 1000)
    extra: dict[str, Any] = (
        {"poolclass": pool.StaticPool}
        if settings.in_memory
        else {
            "pool_size": settings.pool_size,
            "max_overflow": settings.max_overflow,
            "pool_timeout": settings.timeout_seconds,
        }
    )
    engine = create_async_engine(
        settings.url,
        connect_args={"timeout": settings.timeout_seconds},
        **extra,
    )
    pragmas = (
        # First: the switch to WAL below waits for other connections' locks.
        f"PRAGMA busy_timeout={busy_ms}",
        "PRAGMA journal_mode=WAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA synchronous={settings.sqlite_synchronous.upper()}",
        # Reads through a shared memory map, not a read() per page per connection.
        "PRAGMA mmap_size=268435456",
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (or not at all, in autocommit), so that
        # a write transaction takes the write lock up front (BEGIN IMMEDIATE)
        # instead of failing to upgrade a read lock under contention.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    if not autocommit:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: sa.Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
