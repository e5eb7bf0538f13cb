"""PostgreSQL serves lookups and pages from indexes: EXPLAIN with 10,000 users loaded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.integration.sqlalchemy.support import empty_postgres, open_database, repositories_on
from usercore.adapters.sqlalchemy.pool import PoolExecutor
from usercore.adapters.sqlalchemy.tables import users
from usercore.domain.email import Email
from usercore.domain.listing import UserQuery
from usercore.domain.roles import Role
from usercore.testing import RecordFactory, Repositories

pytestmark = pytest.mark.postgres

USERS = 10_000
AUDITOR = Role("auditor")


async def _plans_of(database: Any, operation: Callable[[], Awaitable[object]]) -> list[str]:
    """EXPLAIN every statement the adapter sends for ``operation``, with its parameters."""
    sent: list[tuple[str, Any]] = []
    executor = database.executor
    assert isinstance(executor, PoolExecutor)
    executor.statement_hook = lambda statement, arguments: sent.append((statement, arguments))
    try:
        await operation()
    finally:
        executor.statement_hook = None
    plans = []
    async with database.engine.connect() as conn:
        for statement, parameters in sent:
            if "FROM usercore_users" not in statement:
                continue  # the pool's liveness check
            rows = await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(row[0] for row in rows))
    return plans


async def _load(database: Any, make: RecordFactory) -> list[Any]:
    rows = []
    made = []
    for index in range(USERS):
        roles = frozenset({Role.USER, AUDITOR}) if index % 500 == 0 else frozenset({Role.USER})
        user = make.user(email=f"member{index:05d}@example{index % 37}.com", roles=roles)
        made.append(user)
        rows.append(database.codec.user_to_row(user))
    async with database.engine.begin() as conn:
        await conn.execute(users.insert(), rows)
        await conn.exec_driver_sql("ANALYZE usercore_users")
    return made


async def test_lookups_and_pages_use_indexes_not_a_scan_of_users(postgres_url: str) -> None:
    await empty_postgres(postgres_url)
    database = open_database(postgres_url)
    repos: Repositories = repositories_on(database)
    try:
        await repos.users.get_by_email(Email("warm@example.com"))  # the schema check
        made = await _load(database, RecordFactory())
        middle = made[USERS // 2]
        cases: dict[str, Callable[[], Awaitable[object]]] = {
            "get by email": lambda: repos.users.get_by_email(Email("member05000@example5.com")),
            "get by id": lambda: repos.users.get(middle.id),
            "first page": lambda: repos.users.list(UserQuery(limit=20)),
            "keyset page": lambda: repos.users.list(UserQuery(limit=20, after=middle.id)),
            "email prefix": lambda: repos.users.list(UserQuery(limit=20, email_prefix="member042")),
            "rare role": lambda: repos.users.list(UserQuery(limit=20, role=AUDITOR)),
        }
        for name, operation in cases.items():
            plans = await _plans_of(database, operation)
            assert plans, name
            for plan in plans:
                assert "Seq Scan on usercore_users" not in plan, f"{name}:\n{plan}"
                assert "Index" in plan, f"{name}:\n{plan}"
        (email_plan,) = await _plans_of(database, cases["get by email"])
        assert "uq_usercore_users_email" in email_plan
        (prefix_plan,) = await _plans_of(database, cases["email prefix"])
        assert "uq_usercore_users_email" in prefix_plan
        (role_plan,) = await _plans_of(database, cases["rare role"])
        assert "ix_usercore_users_roles" in role_plan
    finally:
        await database.dispose()
