"""Login throttling: consecutive failures per keyed email hash.

Revision ID: r0002
Revises: r0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

# The types as this revision defines them, independent of later changes to tables.py.
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")


def upgrade() -> None:
    """Create the login throttle table and its expiry index."""
    op.create_table(
        "usercore_login_throttle",
        sa.Column("key", KEY, primary_key=True),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("last_failure_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
    )
    op.create_index(
        "ix_usercore_login_throttle_expires_at", "usercore_login_throttle", ["expires_at"]
    )


def downgrade() -> None:
    """Drop the login throttle table (every count in it is forgotten)."""
    op.drop_table("usercore_login_throttle")
