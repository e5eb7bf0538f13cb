"""The event outbox: events written with their change, subscribers' progress, parked events.

Revision ID: r0004
Revises: r0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

# The types as this revision defines them, independent of later changes to tables.py.
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _event_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("user_id", KEY, nullable=False),
        sa.Column("actor_id", KEY, nullable=True),
        sa.Column("occurred_at", TIMESTAMP, nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    """Create the outbox, the subscribers' tracking and the parked events."""
    op.create_table(
        "usercore_events",
        sa.Column("position", POSITION, primary_key=True, autoincrement=True),
        sa.Column("id", KEY, nullable=False, unique=True),
        *_event_columns(),
        # Never reuse a position, even after the newest events were pruned.
        sqlite_autoincrement=True,
    )
    op.create_table(
        "usercore_event_subscribers",
        sa.Column("subscriber", KEY, primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_at", TIMESTAMP, nullable=True),
        sa.Column("lease_owner", sa.Text(), nullable=True),
        sa.Column("lease_until", TIMESTAMP, nullable=True),
    )
    op.create_table(
        "usercore_events_parked",
        sa.Column("subscriber", KEY, primary_key=True),
        sa.Column("event_id", KEY, primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        *_event_columns(),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("parked_at", TIMESTAMP, nullable=False),
        sa.Column("retry_requested", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    """Drop the outbox tables (undelivered events are lost)."""
    op.drop_table("usercore_events_parked")
    op.drop_table("usercore_event_subscribers")
    op.drop_table("usercore_events")
