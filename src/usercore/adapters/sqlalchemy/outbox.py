"""The outbox rows a change writes in its own transaction, in commit order.

A subscriber reads the outbox by position and remembers the last position it
processed, so positions must become visible in the order they grow: an event
committed later with a smaller position would never be read. SQLite has one
writer at a time, so this holds by itself. On PostgreSQL every transaction
that writes events first takes one transaction-scoped advisory lock, right
before its outbox rows (after the user's row, so the lock is held only for
the outbox inserts and the commit): positions are then handed out and
committed one transaction after another. The same idea as eventsourcing's
table lock on its notification log, kept as short as it can be.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import Statement, Steps
from usercore.adapters.sqlalchemy.tables import events as outbox
from usercore.domain.events import DomainEvent

#: "usercore" in ASCII: the advisory lock key that orders outbox writes.
OUTBOX_LOCK_KEY = 0x75736572636F7265

_LOCK = Statement(
    sa.select(
        sa.func.pg_advisory_xact_lock(sa.literal_column(str(OUTBOX_LOCK_KEY), sa.BigInteger()))
    )
)
_INSERT = Statement(outbox.insert(), column_keys=[c.name for c in outbox.c if c.name != "position"])


def outbox_steps(database: SqlAlchemyDatabase, events: Sequence[DomainEvent]) -> Steps:
    """The statements that put ``events`` in the outbox, to run in the change's transaction."""
    to_row = database.codec.event_to_row
    steps: list[tuple[Statement, dict[str, object]]] = []
    if database.backend == "postgresql":
        steps.append((_LOCK, {}))
    steps.extend((_INSERT, to_row(event)) for event in events)
    return steps
