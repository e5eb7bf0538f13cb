"""The floors usercore is measured against: bare Litestar, and one asyncpg round trip per request.

``bare`` answers a small JSON object and touches nothing else: what the
framework and the server cost. ``storage`` does one primary-key SELECT (or one
keyset page) on usercore's own table straight through an asyncpg pool, with no
auth and no ORM: what one round trip to PostgreSQL costs with nothing in the
way. Both read their settings from ``BENCH_*`` environment variables, as each
server worker builds its own app.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.exceptions import NotFoundException

_COLUMNS = "id, email, name, roles, is_active, is_verified, created_at, updated_at, version"
_BY_ID = f"SELECT {_COLUMNS} FROM usercore_users WHERE id = $1"  # noqa: S608 - constant
_PAGE = f"SELECT {_COLUMNS} FROM usercore_users WHERE id > $1 ORDER BY id LIMIT $2"  # noqa: S608


@get("/health", sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/", sync_to_thread=False)
def hello() -> dict[str, Any]:
    return {"id": "0193a0c4-7b1e-7d2a-9a4c-3f1e2d3c4b5a", "name": "Ada", "is_active": True}


def _user(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "email": row["email"],
        "name": row["name"],
        "roles": list(row["roles"]),
        "is_active": row["is_active"],
        "is_verified": row["is_verified"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
    }


async def _no_reset(_: asyncpg.Connection) -> None:
    return None


@asynccontextmanager
async def _pool(app: Litestar) -> AsyncIterator[None]:
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    dsn = os.environ["BENCH_DSN"]
    # Idle connections close after a few seconds: the servers of a run share the
    # PostgreSQL connection limit, and a floor under load keeps all of its own.
    # reset: the default runs a reset query (a second round trip) on every
    # release; these connections only ever run one read-only statement.
    async with asyncpg.create_pool(
        dsn, min_size=1, max_size=size, max_inactive_connection_lifetime=5, reset=_no_reset
    ) as pool:
        app.state.pool = pool
        yield


@get("/users/{user_id:str}")
async def user_by_id(user_id: str, state: State) -> dict[str, Any]:
    row = await state.pool.fetchrow(_BY_ID, user_id)
    if row is None:
        raise NotFoundException
    return _user(row)


@get("/users")
async def user_page(state: State, limit: int = 20, cursor: str = "") -> dict[str, Any]:
    rows = await state.pool.fetch(_PAGE, cursor, limit + 1)
    items = [_user(row) for row in rows[:limit]]
    return {"items": items, "next_cursor": items[-1]["id"] if len(rows) > limit else None}


def bare() -> Litestar:
    """The framework floor."""
    return Litestar([health, hello])


def storage() -> Litestar:
    """The storage floor."""
    return Litestar([health, hello, user_by_id, user_page], lifespan=[_pool])
