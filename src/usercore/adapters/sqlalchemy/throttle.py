"""SqlAlchemyThrottleStore: the ThrottleStore port on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import Statement
from usercore.adapters.sqlalchemy.tables import login_throttle
from usercore.domain.throttle import ThrottleState
from usercore.domain.timestamps import utc_millis
from usercore.ports.throttle import ThrottleStore

_ONE: sa.ColumnElement[int] = sa.literal_column("1", sa.BigInteger())
_COLUMNS = login_throttle.c


def _upsert(insert: Callable[[sa.Table], Any]) -> Statement:
    """One statement that creates the record or counts one more failure on it.

    ``INSERT ... ON CONFLICT DO UPDATE`` is atomic on both dialects: of N
    concurrent calls each sees the row as the one before left it. The SET
    expressions read the row as it was, and ``excluded`` is the row this
    call would have inserted (``excluded.last_failure_at`` is its ``now``).
    """
    statement = insert(login_throttle).values(
        key=sa.bindparam("key"),
        failures=_ONE,
        last_failure_at=sa.bindparam("now"),
        expires_at=sa.bindparam("expires_at"),
    )
    new = statement.excluded
    expired = _COLUMNS.expires_at <= new.last_failure_at
    return Statement(
        statement.on_conflict_do_update(
            index_elements=[_COLUMNS.key],
            set_={
                "failures": sa.case((expired, _ONE), else_=_COLUMNS.failures + _ONE),
                # Neither time moves backwards: a caller with a slow clock
                # counts its failure but can't shorten the delay or the record's life.
                "last_failure_at": sa.case(
                    (
                        expired | (new.last_failure_at > _COLUMNS.last_failure_at),
                        new.last_failure_at,
                    ),
                    else_=_COLUMNS.last_failure_at,
                ),
                "expires_at": sa.case(
                    (expired | (new.expires_at > _COLUMNS.expires_at), new.expires_at),
                    else_=_COLUMNS.expires_at,
                ),
            },
        ).returning(_COLUMNS.failures, _COLUMNS.last_failure_at)
    )


_RECORD_FAILURE = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
_GET = Statement(
    sa.select(_COLUMNS.failures, _COLUMNS.last_failure_at).where(
        _COLUMNS.key == sa.bindparam("key")
    )
)
_CLEAR = Statement(login_throttle.delete().where(_COLUMNS.key == sa.bindparam("key")))
_PURGE = Statement(login_throttle.delete().where(_COLUMNS.expires_at <= sa.bindparam("now")))


class SqlAlchemyThrottleStore(ThrottleStore):
    """Failure counts in the ``usercore_login_throttle`` table, one row per key.

    Every method is one statement. Expired rows stay until :meth:`purge`
    (the ``expires_at`` index makes that a range scan); a new failure on one
    starts it over.
    """

    def __init__(self, database: SqlAlchemyDatabase) -> None:
        self._run = database.executor
        self._codec = database.codec
        self._record_failure = _RECORD_FAILURE[database.backend]

    async def get(self, key: str) -> ThrottleState | None:  # noqa: D102 - documented by the port
        row = await self._run.fetch_one(_GET, {"key": key})
        return None if row is None else self._state(row)

    async def record_failure(  # noqa: D102
        self, key: str, *, now: datetime, expires_at: datetime
    ) -> ThrottleState:
        time_in = self._codec.time_in
        params = {
            "key": key,
            "now": time_in(utc_millis(now)),
            "expires_at": time_in(utc_millis(expires_at)),
        }
        row = await self._run.write_one(self._record_failure, params)
        if row is None:  # pragma: no cover - an upsert always returns its row
            raise RuntimeError("the throttle upsert returned no row")
        return self._state(row)

    async def clear(self, key: str) -> None:  # noqa: D102
        await self._run.execute(_CLEAR, {"key": key})

    async def purge(self, *, now: datetime) -> int:  # noqa: D102
        return await self._run.execute(_PURGE, {"now": self._codec.time_in(utc_millis(now))})

    def _state(self, row: Any) -> ThrottleState:
        failures, last_failure_at = row
        return ThrottleState(
            failures=failures, last_failure_at=self._codec.time_out(last_failure_at)
        )
