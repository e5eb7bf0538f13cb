"""Many users in one statement: the bulk insert and read that imports use.

One statement per batch whatever its size, with a fixed number of
parameters: PostgreSQL takes one array per column (``unnest``), SQLite one
JSON array of rows (``json_each``). Each statement is built and compiled once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from usercore.adapters.sqlalchemy.executors import Statement
from usercore.adapters.sqlalchemy.mapping import Codec
from usercore.adapters.sqlalchemy.tables import users
from usercore.domain.ids import UserId
from usercore.domain.user import User

_COLUMNS = [column.name for column in users.c]
_COLUMN_LIST = ", ".join(_COLUMNS)
_JSON_VALUES = ", ".join(f"value ->> '$.{name}'" for name in _COLUMNS)

# ON CONFLICT DO NOTHING with no target skips a row that clashes on any unique
# constraint (the id or the email), also with an earlier row of the same batch.
# The SQL is put together from the table's own column names, never from input.
_PG_INSERT = Statement(
    sa.text(
        f"INSERT INTO usercore_users ({_COLUMN_LIST}) "  # noqa: S608
        "SELECT t.id, t.email, t.name, "
        "CASE WHEN t.roles = '' THEN ARRAY[]::text[] ELSE string_to_array(t.roles, '|') END, "
        "t.is_active, t.is_verified, t.password_hash, t.created_at, t.updated_at, "
        "t.version, t.credential_epoch "
        "FROM unnest(CAST(:id AS text[]), CAST(:email AS text[]), CAST(:name AS text[]), "
        "CAST(:roles AS text[]), CAST(:is_active AS boolean[]), CAST(:is_verified AS boolean[]), "
        "CAST(:password_hash AS text[]), CAST(:created_at AS timestamptz[]), "
        "CAST(:updated_at AS timestamptz[]), CAST(:version AS bigint[]), "
        f"CAST(:credential_epoch AS bigint[])) AS t({_COLUMN_LIST}) "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
)
_PG_GET_MANY = Statement(
    sa.select(users).where(users.c.id == sa.func.any(sa.bindparam("ids", type_=sa.ARRAY(sa.Text))))
)

# "WHERE true" tells SQLite's parser that ON CONFLICT belongs to the INSERT.
_SQLITE_INSERT = Statement(
    sa.text(
        f"INSERT INTO usercore_users ({_COLUMN_LIST}) "  # noqa: S608
        f"SELECT {_JSON_VALUES} "
        "FROM json_each(:rows) WHERE true "
        "ON CONFLICT DO NOTHING RETURNING id"
    )
)
_SQLITE_GET_MANY = Statement(
    sa.select(users).where(
        users.c.id.in_(
            sa.select(sa.column("value")).select_from(sa.func.json_each(sa.bindparam("ids")))
        )
    )
)


def insert_statement(
    backend: str, codec: Codec, batch: Sequence[User]
) -> tuple[Statement, dict[str, Any]]:
    """The statement storing those of ``batch`` whose id and email are free, and its parameters."""
    rows = [codec.user_to_row(user) for user in batch]
    if backend == "postgresql":
        params: dict[str, Any] = {name: [row[name] for row in rows] for name in _COLUMNS}
        params["roles"] = ["|".join(roles) for roles in params["roles"]]
        return _PG_INSERT, params
    return _SQLITE_INSERT, {"rows": json.dumps(rows)}


def get_many_statement(
    backend: str, user_ids: Sequence[UserId]
) -> tuple[Statement, dict[str, Any]]:
    """The statement reading the users with these ids, and its parameters."""
    ids = [user_id.value for user_id in user_ids]
    if backend == "postgresql":
        return _PG_GET_MANY, {"ids": ids}
    return _SQLITE_GET_MANY, {"ids": json.dumps(ids)}
