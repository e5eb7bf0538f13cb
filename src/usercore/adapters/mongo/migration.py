"""`usercore migrate` on MongoDB: create the indexes, bring stored documents up to date."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, OperationFailure

from usercore.adapters.mongo.documents import Document
from usercore.adapters.mongo.errors import AUTHENTICATION_FAILED, BACKEND, UNAUTHORIZED, translated
from usercore.adapters.mongo.schema import (
    DOCUMENTS_VERSION,
    INDEXES,
    SCHEMA,
    SESSIONS,
    USERS,
    collations,
    index_problem,
    listed_indexes,
)
from usercore.ports.errors import MigrationError

#: Server error codes: an index of the same keys under another name or with
#: other options exists (85), or one of the same name with other keys (86).
_INDEX_OPTIONS_CONFLICT = 85
_INDEX_KEY_SPECS_CONFLICT = 86
#: How many emails held by more than one account a failed migration names.
_DUPLICATES_SHOWN = 5

Progress = Callable[[str], None]


async def migrate_schema(
    database: AsyncDatabase[Document], *, progress: Progress | None = None
) -> None:
    """Create every index the adapter needs and bring stored documents to the current shape.

    Idempotent: indexes already there are left as they are, and documents
    already in the current shape are not touched. Run with no server using
    the database (``usercore migrate``). Each index is built in turn, under
    the client's timeouts: building one on a large collection, or on a
    replica set that waits for every voting member, takes a while, so
    ``usercore migrate`` gives it a client of its own with a long bound.

    Args:
        database: The database to migrate.
        progress: Called with one line per index as it is found, started and
            built (``users.email_unique: built in 1.2 s``).

    Raises:
        MigrationError: What retrying will not fix, with what to do: emails
            held by more than one account (a few are named), an index made
            by hand that conflicts with one of ours, a collection with a
            default collation, missing privileges.
        StorageUnavailableError: The server could not be reached or refused.
    """
    report = progress or (lambda _: None)
    with translated(), _explained():
        collated = await collations(database, INDEXES)
        if collated:
            name, collation = next(iter(collated.items()))
            raise MigrationError(
                BACKEND,
                f"the {name} collection has a default collation ({dict(collation)}); "
                "usercore compares emails and ids byte by byte: recreate it without one",
            )
        for collection, models in INDEXES.items():
            for model in models:
                await _build(database, collection, model, report)
        await _credential_epochs(database)
        await database.get_collection(SCHEMA).update_one(
            {"_id": "documents"}, {"$set": {"version": DOCUMENTS_VERSION}}, upsert=True
        )


async def _build(
    database: AsyncDatabase[Document], collection: str, model: IndexModel, report: Progress
) -> None:
    where = f"{collection}.{model.document['name']}"
    problem = index_problem(collection, model, await listed_indexes(database, collection))
    if problem is None:
        report(f"{where}: already there")
        return
    # An identical build already under way is joined by the server, not started again.
    report(
        f"{where}: {'waiting for the build under way' if 'being built' in problem else 'building'}"
    )
    started = time.monotonic()
    try:
        await database.get_collection(collection).create_indexes([model])
    except DuplicateKeyError as exc:
        raise MigrationError(BACKEND, await _duplicates(database, where)) from exc
    except OperationFailure as exc:
        if exc.code == _INDEX_OPTIONS_CONFLICT:
            raise MigrationError(
                BACKEND,
                f"{where}: an index on the same keys exists under another name or with other "
                "options (code 85); drop it, then run usercore migrate again",
            ) from exc
        if exc.code == _INDEX_KEY_SPECS_CONFLICT:
            raise MigrationError(
                BACKEND,
                f"{where}: an index of the same name exists on other keys (code 86); "
                "drop it, then run usercore migrate again",
            ) from exc
        raise
    report(f"{where}: built in {time.monotonic() - started:.1f} s")


async def _duplicates(database: AsyncDatabase[Document], where: str) -> str:
    reply = await database.command(
        {
            "aggregate": USERS,
            "pipeline": [
                {"$group": {"_id": "$email", "accounts": {"$sum": 1}}},
                {"$match": {"accounts": {"$gt": 1}}},
                {"$sort": {"accounts": -1, "_id": 1}},
                {"$limit": _DUPLICATES_SHOWN + 1},
            ],
            "cursor": {},
        }
    )
    found: list[dict[str, Any]] = reply["cursor"]["firstBatch"]
    shown = ", ".join(f"{group['_id']} ({group['accounts']})" for group in found[:5])
    more = " and more" if len(found) > _DUPLICATES_SHOWN else ""
    return (
        f"{where}: some emails are held by more than one account, so the unique email "
        f"index cannot be built: {shown}{more}; merge or delete the extra accounts, "
        "then run usercore migrate again"
    )


@contextmanager
def _explained() -> Iterator[None]:
    """Name missing privileges and failed logins the way an operator fixes them."""
    try:
        yield
    except OperationFailure as exc:
        if exc.code == UNAUTHORIZED:
            raise MigrationError(
                BACKEND,
                "not authorized (code 13): usercore migrate needs readWrite and dbAdmin "
                "(createIndex, listIndexes, listCollections) on the database",
            ) from exc
        if exc.code == AUTHENTICATION_FAILED:
            raise MigrationError(
                BACKEND,
                "authentication failed (code 18): check the user and password, and "
                "authSource: without it the URL's path is also the authentication database",
            ) from exc
        raise


async def _credential_epochs(database: AsyncDatabase[Document]) -> None:
    # Version 1 revoked by time: sessions begun before the user's
    # sessions_valid_after were void. Mark them revoked, so that none comes
    # back to life at epoch 1, then drop the field.
    users = database.get_collection(USERS)
    sessions = database.get_collection(SESSIONS)
    old = users.find({"sessions_valid_after": {"$exists": True}}, {"sessions_valid_after": True})
    async for user in old:
        valid_after = user["sessions_valid_after"]
        await sessions.update_many(
            {"user_id": user["_id"], "revoked_at": None, "created_at": {"$lt": valid_after}},
            {"$set": {"revoked_at": valid_after}},
        )
        await users.update_one(
            {"_id": user["_id"]},
            {"$set": {"credential_epoch": 1}, "$unset": {"sessions_valid_after": ""}},
        )
    await sessions.update_many(
        {"epoch": {"$exists": False}}, {"$set": {"epoch": 1, "user_agent": ""}}
    )
