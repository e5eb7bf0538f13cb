"""The schema's version: the Alembic migrations shipped in this package, run and checked.

Alembic is imported only to migrate: checking the version at start-up is one
query, and Alembic costs every server process about 11 MB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa

from usercore.adapters.sqlalchemy.tables import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

#: The revisions a database at the newest schema is at: the heads of the
#: shipped migrations (a test holds this to the scripts themselves).
HEAD_REVISIONS = frozenset({"r0004"})

#: Where Alembic finds the migrations, as a package resource (works from a wheel).
SCRIPT_LOCATION = "usercore.adapters.sqlalchemy:migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration for our migrations, without an ini file.

    Args:
        connection: The connection ``env.py`` runs the migrations on.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("version_table", VERSION_TABLE)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revisions() -> frozenset[str]:
    """The revisions a database at the newest schema is at."""
    return HEAD_REVISIONS


def script_heads() -> frozenset[str]:
    """The heads of the migration scripts shipped in this package."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: sa.Connection) -> frozenset[str]:
    """The revisions the database behind ``connection`` is at (empty when none)."""
    if not sa.inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    rows = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))  # noqa: S608 - a constant
    return frozenset(row[0] for row in rows)


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Migrate the database behind ``connection`` up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: sa.Connection, revision: str) -> None:
    """Migrate the database behind ``connection`` down to ``revision`` (``base``: empty)."""
    from alembic import command

    command.downgrade(alembic_config(connection), revision)
