"""Alembic environment: runs usercore's migrations on the connection usercore hands it."""

from __future__ import annotations

from alembic import context

from usercore.adapters.sqlalchemy.tables import VERSION_TABLE, include_object_for, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "usercore's migrations run through `usercore migrate` (or "
        "usercore.container.migrate_storage), which provides the connection"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_object=include_object_for(connection.dialect.name),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
