"""The adapter's private schema: SQLAlchemy Core tables for users, sessions and login throttling.

Column types differ by dialect where that buys an index or exactness:
PostgreSQL keeps ids and emails in the "C" collation (byte order, so an email
prefix is a range scan on the unique index and ids sort as in Python), roles
in a text array under a GIN index, times as ``timestamptz``; SQLite keeps
times as integer milliseconds since the epoch and roles as ``|a|b|`` text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

#: Alembic's bookkeeping table, named so it never collides with the host application's.
VERSION_TABLE = "usercore_schema_version"

#: Text compared byte by byte: code point order, as Python compares str.
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
#: Exact to the microsecond on PostgreSQL; integer milliseconds on SQLite.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
ROLES = sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")

metadata = sa.MetaData()

users = sa.Table(
    "usercore_users",
    metadata,
    sa.Column("id", KEY, primary_key=True),
    sa.Column("email", KEY, nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("roles", ROLES, nullable=False),
    sa.Column("is_active", sa.Boolean(), nullable=False),
    sa.Column("is_verified", sa.Boolean(), nullable=False),
    sa.Column("password_hash", sa.Text(), nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("updated_at", TIMESTAMP, nullable=False),
    sa.Column("version", sa.BigInteger(), nullable=False),
    # Bumped with the password hash, in the same row write: see User.credential_epoch.
    sa.Column("credential_epoch", sa.BigInteger(), nullable=False),
)
# Every email lookup and every email-prefix range scan uses this index.
sa.Index("uq_usercore_users_email", users.c.email, unique=True)
# Serves the role filter (`roles @> ARRAY[:role]`); SQLite has no use for it.
sa.Index("ix_usercore_users_roles", users.c.roles, postgresql_using="gin").ddl_if(
    dialect="postgresql"
)

sessions = sa.Table(
    "usercore_sessions",
    metadata,
    sa.Column("id", KEY, primary_key=True),
    sa.Column(
        "user_id",
        KEY,
        sa.ForeignKey("usercore_users.id", ondelete="CASCADE", name="fk_usercore_sessions_user_id"),
        nullable=False,
    ),
    sa.Column("token_hash", sa.Text(), nullable=False),
    sa.Column("previous_hashes", sa.Text(), nullable=False),
    sa.Column("generation", sa.BigInteger(), nullable=False),
    sa.Column("created_at", TIMESTAMP, nullable=False),
    sa.Column("last_used_at", TIMESTAMP, nullable=False),
    sa.Column("expires_at", TIMESTAMP, nullable=False),
    sa.Column("revoked_at", TIMESTAMP, nullable=True),
    sa.Column("epoch", sa.BigInteger(), nullable=False),
    sa.Column("user_agent", sa.Text(), nullable=False),
)
sa.Index("ix_usercore_sessions_user_id", sessions.c.user_id, sessions.c.created_at)
sa.Index("ix_usercore_sessions_expires_at", sessions.c.expires_at)

# Keyed by an HMAC of the email, so an email never appears here in clear.
login_throttle = sa.Table(
    "usercore_login_throttle",
    metadata,
    sa.Column("key", KEY, primary_key=True),
    sa.Column("failures", sa.BigInteger(), nullable=False),
    sa.Column("last_failure_at", TIMESTAMP, nullable=False),
    sa.Column("expires_at", TIMESTAMP, nullable=False),
)
# Purging expired records is a range scan.
sa.Index("ix_usercore_login_throttle_expires_at", login_throttle.c.expires_at)


# The outbox. Positions are never reused (SQLite's AUTOINCREMENT, PostgreSQL's
# sequence), so a subscriber's position stays meaningful after a prune.
# No foreign key to users: a deleted user's events outlive them.
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
events = sa.Table(
    "usercore_events",
    metadata,
    sa.Column("position", POSITION, primary_key=True, autoincrement=True),
    sa.Column("id", KEY, nullable=False, unique=True),
    sa.Column("type", sa.Text(), nullable=False),
    sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("user_id", KEY, nullable=False),
    sa.Column("actor_id", KEY, nullable=True),
    sa.Column("occurred_at", TIMESTAMP, nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sqlite_autoincrement=True,
)

# Each subscriber's place in the outbox, and the lease on its delivery.
event_subscribers = sa.Table(
    "usercore_event_subscribers",
    metadata,
    sa.Column("subscriber", KEY, primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("retry_at", TIMESTAMP, nullable=True),
    sa.Column("lease_owner", sa.Text(), nullable=True),
    sa.Column("lease_until", TIMESTAMP, nullable=True),
)

# Events a subscriber gave up on, with a copy of the event (the outbox may prune it).
parked_events = sa.Table(
    "usercore_events_parked",
    metadata,
    sa.Column("subscriber", KEY, primary_key=True),
    sa.Column("event_id", KEY, primary_key=True),
    sa.Column("position", sa.BigInteger(), nullable=False),
    sa.Column("type", sa.Text(), nullable=False),
    sa.Column("schema_version", sa.Integer(), nullable=False),
    sa.Column("user_id", KEY, nullable=False),
    sa.Column("actor_id", KEY, nullable=True),
    sa.Column("occurred_at", TIMESTAMP, nullable=False),
    sa.Column("data", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("parked_at", TIMESTAMP, nullable=False),
    sa.Column("retry_requested", sa.Boolean(), nullable=False),
)


def include_object_for(dialect_name: str) -> Callable[..., bool]:
    """An Alembic autogenerate filter for ``dialect_name``.

    It skips the version table and the indexes created only on other
    dialects (``ddl_if``), so comparing a migrated database with these tables
    finds exactly the differences that matter. Used by the migration
    environment and by the schema tests.
    """

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        if type_ == "table" and name == VERSION_TABLE:
            return False
        if type_ == "index" and not reflected:
            condition = getattr(obj, "_ddl_if", None)
            wanted = getattr(condition, "dialect", None)
            if wanted is not None and wanted != dialect_name:
                return False
        return True

    return include_object
