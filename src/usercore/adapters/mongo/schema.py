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

#: Enforces one account per normalised email; also serves ``get_by_email`` and
#: the ``email_prefix`` range of listings.
EMAIL_INDEX = "email_unique"

USERS_INDEXES = (
    IndexModel([("email", ASCENDING)], name=EMAIL_INDEX, unique=True),
    # Listing by role or activity walks these in ``_id`` order, the page order.
    IndexModel([("roles", ASCENDING), ("_id", ASCENDING)], name="roles_id"),
    IndexModel([("is_active", ASCENDING), ("_id", ASCENDING)], name="is_active_id"),
)

SESSIONS_INDEXES = (
    # A user's sessions, oldest first (``list_for_user``, ``revoke_all``, delete).
    IndexModel(
        [("user_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
        name="user_id_created_at",
    ),
    # TTL: the server purges a session once ``expires_at`` has passed; the
    # same index serves ``delete_expired``.
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


async def create_indexes(database: AsyncDatabase[Document]) -> None:
    """Create every index the adapter needs; idempotent (existing ones are left as they are).

    Raises:
        StorageUnavailableError: The server could not be reached or refused.
    """
    with translated():
        await database.get_collection(USERS).create_indexes(list(USERS_INDEXES))
        await database.get_collection(SESSIONS).create_indexes(list(SESSIONS_INDEXES))
        await database.get_collection(LOGIN_THROTTLE).create_indexes(list(LOGIN_THROTTLE_INDEXES))


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
