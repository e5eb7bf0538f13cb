"""`usercore migrate` on MongoDB: create the indexes, bring stored documents up to date."""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from usercore.adapters.mongo.documents import Document
from usercore.adapters.mongo.errors import translated
from usercore.adapters.mongo.schema import (
    DOCUMENTS_VERSION,
    LOGIN_THROTTLE,
    LOGIN_THROTTLE_INDEXES,
    SCHEMA,
    SESSIONS,
    SESSIONS_INDEXES,
    USERS,
    USERS_INDEXES,
)


async def migrate_schema(database: AsyncDatabase[Document]) -> None:
    """Create every index the adapter needs and bring stored documents to the current shape.

    Idempotent: existing indexes are left as they are, and documents already
    in the current shape are not touched. Run with no server using the
    database (``usercore migrate``).

    Raises:
        StorageUnavailableError: The server could not be reached or refused.
    """
    with translated():
        await database.get_collection(USERS).create_indexes(list(USERS_INDEXES))
        await database.get_collection(SESSIONS).create_indexes(list(SESSIONS_INDEXES))
        await database.get_collection(LOGIN_THROTTLE).create_indexes(list(LOGIN_THROTTLE_INDEXES))
        await _credential_epochs(database)
        await database.get_collection(SCHEMA).update_one(
            {"_id": "documents"}, {"$set": {"version": DOCUMENTS_VERSION}}, upsert=True
        )


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
