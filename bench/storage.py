"""Storage benchmark: the repository hot paths on memory, SQLite and PostgreSQL, side by side.

Run (about a minute; PostgreSQL is skipped with a note when no server answers):

    .venv/bin/python -m bench.storage [--sizes 1000 100000] [--seconds 0.5]
        [--backends memory sqlite postgres]

For each backend and table size it reports operations per second of
get by id, get by email, add (hashed with the fast test hasher), a
compare-and-set update, and a keyset page of 20 from a random position;
then the ratio of a page's cost at the largest size to its cost at the
smallest (flat cost means a ratio near 1). Reported, never asserted.
PostgreSQL runs in a database created for the run (admin URL from
``USERCORE_TEST_POSTGRES_URL``) and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import sqlalchemy as sa

from usercore.adapters.memory import InMemoryStore, InMemoryUserRepository
from usercore.adapters.sqlalchemy import ConnectSettings, SqlAlchemyDatabase, migrate
from usercore.adapters.sqlalchemy.tables import users as users_table
from usercore.adapters.sqlalchemy.users import SqlAlchemyUserRepository
from usercore.domain.email import Email
from usercore.domain.ids import UserId, uuid7_from_parts
from usercore.domain.listing import UserQuery
from usercore.domain.passwords import PasswordHash
from usercore.domain.user import User
from usercore.ports.users import UserRepository
from usercore.testing import FastTestHasher

ADMIN_URL = os.environ.get(
    "USERCORE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
START = datetime(2026, 1, 1, tzinfo=UTC)
LOAD_BATCH = 5_000


def make_user(serial: int, password_hash: PasswordHash) -> User:
    moment = START + timedelta(milliseconds=serial)
    unix_ms = int(moment.timestamp() * 1000)
    return User.create(
        id=UserId(str(uuid7_from_parts(unix_ms, secrets.token_bytes(10)))),
        email=Email(f"user{serial:07d}@example.com"),
        password_hash=password_hash,
        now=moment,
        name=f"User {serial}",
    )


async def _plain_admin() -> asyncpg.Connection:
    url = sa.make_url(ADMIN_URL).set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False), timeout=3)


@asynccontextmanager
async def memory_backend(loaded: list[User]) -> AsyncIterator[UserRepository]:
    repository = InMemoryUserRepository(InMemoryStore())
    for user in loaded:
        await repository.add(user)
    yield repository


@asynccontextmanager
async def sql_backend(url: str, loaded: list[User]) -> AsyncIterator[UserRepository]:
    settings = ConnectSettings.parse(url, pool_size=10, timeout_seconds=30)
    await migrate(settings)
    database = SqlAlchemyDatabase(settings)
    rows = [database.codec.user_to_row(user) for user in loaded]
    async with database.engine.begin() as conn:
        for start in range(0, len(rows), LOAD_BATCH):
            await conn.execute(users_table.insert(), rows[start : start + LOAD_BATCH])
        if database.backend == "postgresql":
            await conn.exec_driver_sql("ANALYZE usercore_users")
    try:
        yield SqlAlchemyUserRepository(database)
    finally:
        await database.dispose()


@asynccontextmanager
async def sqlite_backend(loaded: list[User]) -> AsyncIterator[UserRepository]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.sqlite3'}"
        async with sql_backend(url, loaded) as repository:
            yield repository


@asynccontextmanager
async def postgres_backend(loaded: list[User]) -> AsyncIterator[UserRepository]:
    name = f"usercore_bench_storage_{secrets.token_hex(4)}"
    admin = await _plain_admin()
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
        async with sql_backend(url.render_as_string(hide_password=False), loaded) as repository:
            yield repository
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def rate(seconds: float, operation: Callable[[], Awaitable[object]]) -> float:
    """Operations per second of ``operation``, run back to back for about ``seconds``."""
    for _ in range(20):  # warm caches and the pool
        await operation()
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(20):
            await operation()
        count += 20
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


async def measure(
    repository: UserRepository, loaded: list[User], seconds: float
) -> dict[str, float]:
    """Ops/s of each hot path on a repository holding ``loaded``."""
    pick = random.Random(7)
    hasher = FastTestHasher()
    versions = {user.id: user for user in loaded}
    serial = iter(range(10_000_000, 20_000_000))
    now = START + timedelta(days=1)

    async def get_by_id() -> object:
        return await repository.get(pick.choice(loaded).id)

    async def get_by_email() -> object:
        return await repository.get_by_email(pick.choice(loaded).email)

    async def add() -> None:
        await repository.add(make_user(next(serial), await hasher.hash("a password")))

    async def update() -> None:
        current = versions[pick.choice(loaded).id]
        changed = current.with_profile(now=now, name=f"renamed {current.version}")
        await repository.update(changed, expected_version=current.version)
        versions[current.id] = changed

    async def page() -> object:
        return await repository.list(UserQuery(limit=20, after=pick.choice(loaded).id))

    operations = {
        "get_by_id": get_by_id,
        "get_by_email": get_by_email,
        "add": add,
        "cas_update": update,
        "keyset_page": page,
    }
    return {name: await rate(seconds, operation) for name, operation in operations.items()}


async def postgres_reason() -> str | None:
    try:
        conn = await _plain_admin()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


async def main(sizes: list[int], seconds: float, only: list[str]) -> None:
    backends: dict[str, Callable[[list[User]], AbstractAsyncContextManager[UserRepository]]] = {
        "memory": memory_backend,
        "sqlite": sqlite_backend,
    }
    reason = await postgres_reason()
    if reason is None:
        backends["postgres"] = postgres_backend
    else:
        print(f"postgres skipped: {reason}")
    backends = {name: backend for name, backend in backends.items() if name in only}
    hashed = await FastTestHasher().hash("a password")
    results: dict[tuple[str, int], dict[str, float]] = {}
    for size in sizes:
        loaded = [make_user(serial, hashed) for serial in range(size)]
        for name, backend in backends.items():
            async with backend(loaded) as repository:
                results[name, size] = await measure(repository, loaded, seconds)
            print(f"measured {name} at {size:,} users", flush=True)
    columns = ["get_by_id", "get_by_email", "add", "cas_update", "keyset_page"]
    print(f"\n{'backend':<9}{'users':>9}" + "".join(f"{c:>14}" for c in columns) + "   (ops/s)")
    for (name, size), figures in results.items():
        print(f"{name:<9}{size:>9,}" + "".join(f"{figures[c]:>14,.0f}" for c in columns))
    small, large = min(sizes), max(sizes)
    print(f"\npage cost at {large:,} / at {small:,} users (flat = 1.0, target <= 1.5):")
    for name in backends:
        ratio = results[name, small]["keyset_page"] / results[name, large]["keyset_page"]
        print(f"  {name:<9}{ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement")
    parser.add_argument("--backends", nargs="+", default=["memory", "sqlite", "postgres"])
    arguments = parser.parse_args()
    asyncio.run(main(arguments.sizes, arguments.seconds, arguments.backends))
