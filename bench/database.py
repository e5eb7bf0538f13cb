"""Fresh PostgreSQL databases per run, and rows bulk-loaded straight into them.

Users are written with one precomputed argon2id hash (of ``PASSWORD``, with
usercore's parameters), through COPY, so a million of them load in seconds
rather than the hours that a million hashes would take.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import argon2
import asyncpg

from usercore.domain.ids import uuid7_from_parts

#: Every bulk-loaded account has this password (strong enough for usercore's policy).
PASSWORD = "tangerine-Rocket-harbour-57-quietly"  # noqa: S105 - a benchmark fixture
ADMIN_EMAIL = "admin@example.com"
#: usercore's default argon2id cost: OWASP's m=19 MiB, t=2, p=1.
ARGON2_TIME_COST, ARGON2_MEMORY_KIB, ARGON2_PARALLELISM = 2, 19_456, 1


@dataclass(frozen=True)
class Postgres:
    """Where the PostgreSQL server is: ``host:port`` with a user that may create databases."""

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"

    def dsn(self, database: str) -> str:
        """A libpq URL of ``database``."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on the asyncpg driver."""
        return f"postgresql+asyncpg://{self.user}@{self.host}:{self.port}/{database}"


def database_name(label: str) -> str:
    """A database name no earlier run used."""
    return f"usercore_bench_{label}_{int(time.time())}_{os.getpid()}"


async def _admin(server: Postgres, statement: str) -> None:
    connection = await asyncpg.connect(server.dsn("postgres"))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(server: Postgres, name: str) -> None:
    """Create the empty database ``name``."""
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))


def drop_database(server: Postgres, name: str) -> None:
    """Drop database ``name``, closing whatever connections are left on it."""
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def execute(dsn: str, statement: str) -> None:
    """Run one statement on ``dsn``."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def argon2_hasher() -> argon2.PasswordHasher:
    """argon2-cffi's hasher with usercore's default parameters."""
    return argon2.PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        type=argon2.Type.ID,
    )


def precomputed_hash() -> str:
    """One argon2id hash of ``PASSWORD`` with usercore's default parameters."""
    return argon2_hasher().hash(PASSWORD)


def bench_email(number: int) -> str:
    """The email of bulk-loaded user ``number``."""
    return f"user{number}@example.com"


def _usercore_rows(count: int, password_hash: str) -> Iterator[tuple[object, ...]]:
    now = datetime.now(UTC).replace(microsecond=0)
    start_ms = int(now.timestamp() * 1000) - count - 1
    for number in range(-1, count):
        # Ids a millisecond apart, oldest first: the order usercore would have made them in.
        user_id = str(uuid7_from_parts(start_ms + number + 1, os.urandom(10)))
        admin = number < 0
        email = ADMIN_EMAIL if admin else bench_email(number)
        roles = ["admin", "user"] if admin else ["user"]
        yield (user_id, email, "", roles, True, True, password_hash, now, now, 1, 1)


#: The columns of usercore's users table, in the order the bench's rows give them.
USERCORE_COLUMNS = [
    "id",
    "email",
    "name",
    "roles",
    "is_active",
    "is_verified",
    "password_hash",
    "created_at",
    "updated_at",
    "version",
    "credential_epoch",
]


async def load_usercore_users(dsn: str, count: int, password_hash: str) -> None:
    """Bulk-load ``count`` users plus one admin into usercore's (migrated) users table."""
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "usercore_users",
            records=_usercore_rows(count, password_hash),
            columns=USERCORE_COLUMNS,
        )
        await connection.execute("ANALYZE usercore_users")
    finally:
        await connection.close()


async def load_fastapi_users(dsn: str, count: int, password_hash: str) -> None:
    """Bulk-load ``count`` users plus one superuser into fastapi-users' table."""
    rows = [
        (
            uuid.uuid4(),
            ADMIN_EMAIL if n < 0 else bench_email(n),
            password_hash,
            True,
            n < 0,
            True,
            "",
        )
        for n in range(-1, count)
    ]
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "user",
            records=rows,
            columns=[
                "id",
                "email",
                "hashed_password",
                "is_active",
                "is_superuser",
                "is_verified",
                "name",
            ],
        )
        await connection.execute('ANALYZE "user"')
    finally:
        await connection.close()


async def sample_ids(dsn: str, table: str, count: int) -> list[str]:
    """Ids of ``count`` users spread over the whole table (for get-by-id)."""
    connection = await asyncpg.connect(dsn)
    try:
        query = f'SELECT id::text FROM "{table}" ORDER BY random() LIMIT $1'  # noqa: S608
        return [row[0] for row in await connection.fetch(query, count)]
    finally:
        await connection.close()
