"""Users and their login sessions.

Revision ID: r0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None

# The types as this revision defines them, independent of later changes to tables.py.
KEY = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True).with_variant(sa.BigInteger(), "sqlite")
ROLES = sa.Text().with_variant(postgresql.ARRAY(sa.Text()), "postgresql")


def upgrade() -> None:
    """Create the users and sessions tables with their indexes."""
    op.create_table(
        "usercore_users",
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
        sa.Column("sessions_valid_after", TIMESTAMP, nullable=False),
    )
    op.create_index("uq_usercore_users_email", "usercore_users", ["email"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_usercore_users_roles", "usercore_users", ["roles"], postgresql_using="gin"
        )
    op.create_table(
        "usercore_sessions",
        sa.Column("id", KEY, primary_key=True),
        sa.Column(
            "user_id",
            KEY,
            sa.ForeignKey(
                "usercore_users.id", ondelete="CASCADE", name="fk_usercore_sessions_user_id"
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("previous_hashes", sa.Text(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_usercore_sessions_user_id", "usercore_sessions", ["user_id", "created_at"])
    op.create_index("ix_usercore_sessions_expires_at", "usercore_sessions", ["expires_at"])


def downgrade() -> None:
    """Drop both tables (and every user and session in them)."""
    op.drop_table("usercore_sessions")
    op.drop_table("usercore_users")
