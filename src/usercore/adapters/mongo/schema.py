"""The collections and indexes the adapter's queries need, and the check that they exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from usercore.adapters.mongo.documents import Document
from usercore.adapters.mongo.errors import translated

USERS = "users"
SESSIONS = "sessions"
LOGIN_THROTTLE = "login_throttle"
#: The event outbox (``_id`` is the position), its position counter, subscribers' progress.
OUTBOX = "outbox"
COUNTERS = "counters"
#: Events appended with no user write, waiting for the relay (one document per append).
APPENDED = "appended_events"
EVENT_SUBSCRIBERS = "event_subscribers"
#: One document, ``{"_id": "documents", "version": n}``: the shape stored documents have.
SCHEMA = "usercore_schema"
#: 2: credential epochs replace ``sessions_valid_after``; sessions keep their user agent.
#: 3: the event outbox (its unique event id index).
DOCUMENTS_VERSION = 3

#: Enforces one account per normalised email; also serves ``get_by_email`` and
#: the ``email_prefix`` range of listings.
EMAIL_INDEX = "email_unique"

USERS_INDEXES = (
    IndexModel([("email", ASCENDING)], name=EMAIL_INDEX, unique=True),
    # Listing by role or activity walks these in ``_id`` order, the page order.
    IndexModel([("roles", ASCENDING), ("_id", ASCENDING)], name="roles_id"),
    IndexModel([("is_active", ASCENDING), ("_id", ASCENDING)], name="is_active_id"),
    # The relay's search for events a crashed writer left pending.
    IndexModel([("pending_since", ASCENDING)], name="pending_since", sparse=True),
)

OUTBOX_INDEXES = (
    # An event relayed twice is stored once.
    IndexModel([("id", ASCENDING)], name="event_id_unique", unique=True),
)

SESSIONS_INDEXES = (
    # A user's sessions, oldest first (``list_for_user``, ``revoke_all``, delete).
    IndexModel(
        [("user_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
        name="user_id_created_at",
    ),
    # TTL: the server purges a session once ``expires_at`` has passed; the
    # same index serves ``purge``.
    IndexModel([("expires_at", ASCENDING)], name="expires_at_ttl", expireAfterSeconds=0),
)

#: The name of the throttle collection's TTL index, which the throttle store requires.
THROTTLE_TTL_INDEX = "expires_at_ttl"

LOGIN_THROTTLE_INDEXES = (
    # TTL: the server drops a record once ``expires_at`` has passed, so the
    # collection stays bounded without anyone running a purge; the same
    # index serves ``purge``.
    IndexModel([("expires_at", ASCENDING)], name=THROTTLE_TTL_INDEX, expireAfterSeconds=0),
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
        await database.get_collection(OUTBOX).create_indexes(list(OUTBOX_INDEXES))
        await _credential_epochs(database)
        await database.get_collection(SCHEMA).update_one(
            {"_id": "documents"}, {"$set": {"version": DOCUMENTS_VERSION}}, upsert=True
        )


async def documents_version(database: AsyncDatabase[Document]) -> int:
    """The shape stored documents have (0 for a database never migrated)."""
    found = await database.get_collection(SCHEMA).find_one({"_id": "documents"})
    return 0 if found is None else int(found["version"])


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


def has_unique_email_index(index_information: Mapping[str, Any]) -> bool:
    """Whether ``index_information()`` of the users collection shows a unique index on email."""
    return any(
        spec.get("unique") and [field for field, _ in spec["key"]] == ["email"]
        for spec in index_information.values()
    )


def has_ttl_index(index_information: Mapping[str, Any], field: str) -> bool:
    """Whether ``index_information()`` of a collection shows a TTL index on ``field`` alone."""
    return any(
        "expireAfterSeconds" in spec and [name for name, _ in spec["key"]] == [field]
        for spec in index_information.values()
    )
