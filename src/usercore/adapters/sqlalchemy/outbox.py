"""The outbox rows a change writes in its own transaction, and reading them without gaps.

A subscriber reads the outbox by position and remembers the last position it
processed, so a reader must never see a position while a smaller one is
still uncommitted: that event would be skipped for good. SQLite has one
writer at a time, so this holds by itself.

On PostgreSQL positions come from a sequence when the row is inserted, and
transactions commit in any order. Every transaction that writes events takes
a transaction-scoped advisory lock in **shared** mode right before its outbox
rows, so writers never wait for each other (their commits still group); a
reader takes the same lock in **exclusive** mode, in a transaction of its
own, before it reads. It gets it once every writer that might hold a
position has committed or rolled back (new writers wait behind it for the
length of one indexed read), so everything it can see below the newest
position is final. eventsourcing serialises the writers of its notification
log with a table lock instead; here the brief exclusive turn is the reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from usercore.adapters.sqlalchemy.database import SqlAlchemyDatabase
from usercore.adapters.sqlalchemy.executors import Statement, Steps
from usercore.adapters.sqlalchemy.tables import events as outbox
from usercore.domain.events import DomainEvent

#: "usercore" in ASCII: the advisory lock key that orders outbox writes.
OUTBOX_LOCK_KEY = 0x75736572636F7265

_KEY = sa.literal_column(str(OUTBOX_LOCK_KEY), sa.BigInteger())
_WRITING = Statement(sa.select(sa.func.pg_advisory_xact_lock_shared(_KEY)))
#: A reader's turn: every writer holding a position has finished.
READING = Statement(sa.select(sa.func.pg_advisory_xact_lock(_KEY)))
_INSERT = Statement(outbox.insert(), column_keys=[c.name for c in outbox.c if c.name != "position"])


# The outbox columns as a combined statement binds them (e_<column>), with
# explicit types: a SELECT list gives PostgreSQL no column to infer them from.
_EVENT_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "id": sa.Text(),
    "type": sa.Text(),
    "schema_version": sa.Integer(),
    "user_id": sa.Text(),
    "actor_id": sa.Text(),
    "occurred_at": sa.DateTime(timezone=True),
    "data": sa.Text(),
}


def announcing(change: Any) -> Statement:
    """One PostgreSQL statement: ``change`` and, only if it touched a row, one outbox row.

    ``WITH changed AS (<change> RETURNING ...), locked AS (SELECT
    pg_advisory_xact_lock_shared(...) FROM changed) INSERT INTO usercore_events
    SELECT <e_* parameters> FROM locked``: atomic as one autocommit statement,
    one round trip instead of five, with the lock taken before the position is.
    Its row count is the outbox rows written: 1 when ``change`` applied, else 0.

    Args:
        change: An INSERT, UPDATE or DELETE of one user row whose values are
            ``u_``-prefixed parameters, with ``RETURNING``.
    """
    changed = change.cte("changed")
    locked = (
        sa.select(sa.func.pg_advisory_xact_lock_shared(_KEY).label("locked"))
        .select_from(changed)
        .cte("locked")
    )
    values = [sa.cast(sa.bindparam(f"e_{name}"), kind) for name, kind in _EVENT_TYPES.items()]
    return Statement(
        outbox.insert().from_select(list(_EVENT_TYPES), sa.select(*values).select_from(locked))
    )


def event_params(database: SqlAlchemyDatabase, event: DomainEvent) -> dict[str, Any]:
    """The ``e_`` parameters of :func:`announcing` for ``event``."""
    return {f"e_{name}": value for name, value in database.codec.event_to_row(event).items()}


def outbox_steps(database: SqlAlchemyDatabase, events: Sequence[DomainEvent]) -> Steps:
    """The statements that put ``events`` in the outbox, to run in the change's transaction."""
    to_row = database.codec.event_to_row
    steps: list[tuple[Statement, dict[str, object]]] = []
    if database.backend == "postgresql":
        steps.append((_WRITING, {}))
    steps.extend((_INSERT, to_row(event)) for event in events)
    return steps
