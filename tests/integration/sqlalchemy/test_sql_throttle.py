"""The SQL throttle store across processes, and its statements on PostgreSQL's indexes."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.sqlalchemy.proxy import FaultProxy
from tests.integration.sqlalchemy.support import empty_postgres, open_database
from usercore.adapters.sqlalchemy import SqlAlchemyThrottleStore
from usercore.adapters.sqlalchemy.pool import PoolExecutor
from usercore.adapters.sqlalchemy.tables import login_throttle
from usercore.ports.errors import StorageUnavailableError
from usercore.testing.contract import EPOCH

RECORDS = 10_000


async def test_stores_of_separate_databases_count_every_failure_once(sql_url: str) -> None:
    # Two database objects stand for two server processes: separate
    # connection pools and, on SQLite, separate write locks.
    first, second = open_database(sql_url), open_database(sql_url)
    stores = [SqlAlchemyThrottleStore(first), SqlAlchemyThrottleStore(second)]
    try:
        states = await asyncio.gather(
            *(
                stores[i % 2].record_failure("k", now=EPOCH, expires_at=EPOCH + timedelta(hours=1))
                for i in range(40)
            )
        )
    finally:
        await first.dispose()
        await second.dispose()
    assert sorted(state.failures for state in states) == list(range(1, 41))


async def _plan(database: Any, statement: str, parameters: tuple[Any, ...]) -> str:
    async with database.engine.connect() as conn:
        rows = await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        return "\n".join(row[0] for row in rows)


@pytest.mark.postgres
async def test_get_and_purge_use_indexes_not_a_scan(postgres_url: str) -> None:
    await empty_postgres(postgres_url)
    database = open_database(postgres_url)
    store = SqlAlchemyThrottleStore(database)
    try:
        await store.get("warm")  # the schema check
        rows = [
            {
                "key": f"{index:064x}",
                "failures": 1 + index % 20,
                "last_failure_at": EPOCH + timedelta(seconds=index),
                "expires_at": EPOCH + timedelta(hours=4, seconds=index),
            }
            for index in range(RECORDS)
        ]
        async with database.engine.begin() as conn:
            await conn.execute(login_throttle.insert(), rows)
            await conn.exec_driver_sql("ANALYZE usercore_login_throttle")
        sent: list[tuple[str, tuple[Any, ...]]] = []
        executor = database.executor
        assert isinstance(executor, PoolExecutor)
        executor.statement_hook = lambda sql, args: sent.append((sql, args))
        await store.get(f"{RECORDS // 2:064x}")
        assert await store.purge(now=EPOCH + timedelta(hours=4, seconds=9)) == 10
        executor.statement_hook = None
        for statement, parameters in sent:
            plan = await _plan(database, statement, parameters)
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan
    finally:
        await database.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["reset", "blackhole"])
async def test_a_cut_line_is_storage_unavailable_within_the_bound(
    postgres_url: str, fault: str
) -> None:
    await empty_postgres(postgres_url)
    url = sa.make_url(postgres_url)
    proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    database = open_database(proxied, timeout_seconds=1.0)
    store = SqlAlchemyThrottleStore(database)
    try:
        await store.record_failure("k", now=EPOCH, expires_at=EPOCH + timedelta(hours=1))
        getattr(proxy, fault)()
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError):
            await store.record_failure("k", now=EPOCH, expires_at=EPOCH + timedelta(hours=1))
        assert time.monotonic() - started < 2.5
        proxy.restore()
        # Whether the cut statement ran is unknown; the next one counts again.
        state = await store.record_failure("k", now=EPOCH, expires_at=EPOCH + timedelta(hours=1))
        assert state.failures in (2, 3)
    finally:
        await database.dispose()
        await proxy.close()
