"""The schema's version: the Alembic migrations shipped in this package, run and checked."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from usercore.adapters.sqlalchemy.tables import VERSION_TABLE

#: Where Alembic finds the migrations, as a package resource (works from a wheel).
SCRIPT_LOCATION = "usercore.adapters.sqlalchemy:migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for our migrations, without an ini file.

    Args:
        connection: The connection ``env.py`` runs the migrations on.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def head_revisions() -> frozenset[str]:
    """The revisions a database at the newest schema is at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: sa.Connection) -> frozenset[str]:
    """The revisions the database behind ``connection`` is at (empty when none)."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return frozenset(context.get_current_heads())


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` up to ``revision``."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: sa.Connection, revision: str) -> None:
    """Migrate the database behind ``connection`` down to ``revision`` (``base``: empty)."""
    command.downgrade(alembic_config(connection), revision)
