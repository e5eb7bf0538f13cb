"""Credential epochs: revocation by a counter stored with the password hash, not by time.

Sessions voided by ``usercore_users.sessions_valid_after`` (they began before
it) are marked revoked, so dropping the column revives none of them; every
user and every remaining session starts at epoch 1. Access tokens issued
before this revision carry no epoch and are refused: their holders refresh.

Revision ID: r0003
Revises: r0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

# The types as this revision defines them, independent of later changes to tables.py.
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")

_users = sa.table(
    "usercore_users",
    sa.column("id", sa.Text()),
    sa.column("created_at", TIMESTAMP),
    sa.column("sessions_valid_after", TIMESTAMP),
)
_sessions = sa.table(
    "usercore_sessions",
    sa.column("user_id", sa.Text()),
    sa.column("created_at", TIMESTAMP),
    sa.column("revoked_at", TIMESTAMP),
)


def upgrade() -> None:
    """Add the epochs and the session's user agent; retire ``sessions_valid_after``."""
    valid_after = (
        sa.select(_users.c.sessions_valid_after)
        .where(_users.c.id == _sessions.c.user_id)
        .scalar_subquery()
    )
    op.execute(
        _sessions.update()
        .where(_sessions.c.revoked_at.is_(None), _sessions.c.created_at < valid_after)
        .values(revoked_at=valid_after)
    )
    op.add_column(
        "usercore_users",
        sa.Column("credential_epoch", sa.BigInteger(), nullable=False, server_default="1"),
    )
    op.add_column(
        "usercore_sessions",
        sa.Column("epoch", sa.BigInteger(), nullable=False, server_default="1"),
    )
    op.add_column(
        "usercore_sessions",
        sa.Column("user_agent", sa.Text(), nullable=False, server_default=""),
    )
    # Defaults only for the rows above: every write names these columns.
    for table, column in (
        ("usercore_users", "credential_epoch"),
        ("usercore_sessions", "epoch"),
        ("usercore_sessions", "user_agent"),
    ):
        if op.get_bind().dialect.name != "sqlite":  # SQLite can't drop a default in place
            op.alter_column(table, column, server_default=None)
    op.drop_column("usercore_users", "sessions_valid_after")


def downgrade() -> None:
    """Restore ``sessions_valid_after`` as each user's creation: unrevoked sessions stay valid."""
    op.add_column("usercore_users", sa.Column("sessions_valid_after", TIMESTAMP, nullable=True))
    op.execute(_users.update().values(sessions_valid_after=_users.c.created_at))
    if op.get_bind().dialect.name != "sqlite":  # SQLite can't change nullability in place
        op.alter_column("usercore_users", "sessions_valid_after", nullable=False)
    op.drop_column("usercore_sessions", "user_agent")
    op.drop_column("usercore_sessions", "epoch")
    op.drop_column("usercore_users", "credential_epoch")
