"""The collections and indexes the adapter's queries need, and the check that they are usable."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import attrs
from pymongo import ASCENDING, IndexModel, ReadPreference
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from usercore.adapters.mongo.documents import Document

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

#: Every index the adapter creates, by collection.
INDEXES: Mapping[str, tuple[IndexModel, ...]] = {
    USERS: USERS_INDEXES,
    SESSIONS: SESSIONS_INDEXES,
    LOGIN_THROTTLE: LOGIN_THROTTLE_INDEXES,
    OUTBOX: OUTBOX_INDEXES,
}

#: How long a passed schema check is trusted before it is made again: an index
#: dropped by hand is noticed within this long.
SCHEMA_RECHECK_SECONDS = 60.0

_NAMESPACE_NOT_FOUND = 26
#: Index options that change what an index enforces or which queries it serves.
_FLAGS = ("unique", "sparse", "hidden")
_VALUES = ("expireAfterSeconds", "partialFilterExpression")


@attrs.frozen
class ListedIndex:
    """An index as the server lists it.

    Attributes:
        spec: Its name, ``key`` and options, as ``listIndexes`` gives them.
        building: Still being built: listed, but not yet enforcing anything.
    """

    spec: Mapping[str, Any]
    building: bool = False


async def listed_indexes(database: AsyncDatabase[Document], collection: str) -> list[ListedIndex]:
    """The indexes of ``collection``, finished or still being built.

    ``listIndexes`` lists a build in progress like a finished index; with
    ``includeBuildUUIDs`` (MongoDB 4.4+) it lists it as ``{spec, buildUUID}``.
    """
    try:
        reply = await database.command({"listIndexes": collection, "includeBuildUUIDs": True})
    except OperationFailure as exc:
        if exc.code == _NAMESPACE_NOT_FOUND:
            return []
        raise
    return [
        ListedIndex(spec=entry["spec"], building=True)
        if "buildUUID" in entry
        else ListedIndex(spec=entry, building=False)
        for entry in reply["cursor"]["firstBatch"]
    ]


async def collations(
    database: AsyncDatabase[Document], collections: Iterable[str]
) -> dict[str, Mapping[str, Any]]:
    """The default collation of each of ``collections`` that has one other than ``simple``."""
    reply = await database.command(
        {"listCollections": 1, "filter": {"name": {"$in": list(collections)}}}
    )
    found = {}
    for info in reply["cursor"]["firstBatch"]:
        collation = info.get("options", {}).get("collation")
        if collation and collation.get("locale") != "simple":
            found[info["name"]] = collation
    return found


def _keys(spec: Mapping[str, Any]) -> list[tuple[str, float]]:
    # Keys created by hand in mongosh are doubles (1.0), ours are ints.
    return [(field, float(direction)) for field, direction in dict(spec["key"]).items()]


def _options(spec: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {name: True for name in _FLAGS if spec.get(name)}
    options.update({name: spec[name] for name in _VALUES if spec.get(name) is not None})
    if spec.get("collation", {}).get("locale", "simple") != "simple":
        options["collation"] = spec["collation"]
    return options


def index_problem(collection: str, model: IndexModel, listed: Iterable[ListedIndex]) -> str | None:
    """What keeps the index ``model`` of ``collection`` from being used, in words; None if nothing.

    It must be listed with exactly the keys and the options the adapter
    creates (under any name), and finished.
    """
    expected = model.document
    same_keys = [index for index in listed if _keys(index.spec) == _keys(expected)]
    where = f"{collection}.{expected['name']}"
    if not same_keys:
        return f"{where} is missing"
    if not any(_options(index.spec) == _options(expected) for index in same_keys):
        return (
            f"{where}: an index on the same keys has other options "
            f"({_options(same_keys[0].spec)}, needs {_options(expected)}); drop it"
        )
    if all(index.building for index in same_keys):
        return f"{where} is still being built"
    return None


def index_problems(collection: str, listed: Iterable[ListedIndex]) -> list[str]:
    """What keeps the adapter's indexes of ``collection`` from being used; empty if nothing."""
    listed = list(listed)
    found = (index_problem(collection, model, listed) for model in INDEXES[collection])
    return [problem for problem in found if problem is not None]


async def schema_problems(
    database: AsyncDatabase[Document], collections: Iterable[str]
) -> list[str]:
    """Everything that keeps ``collections`` from being used safely; empty when nothing does."""
    collections = list(collections)
    problems = [
        f"the {name} collection has a default collation ({dict(collation)}); "
        "usercore compares emails and ids byte by byte: recreate it without one"
        for name, collation in (await collations(database, collections)).items()
    ]
    for collection in collections:
        problems.extend(index_problems(collection, await listed_indexes(database, collection)))
    return problems


class RecheckedCheck:
    """A check that, once passed, is trusted for ``recheck_seconds``, then made again.

    A failed check is never trusted: the next call makes it again, so an
    index whose build finishes is used without a restart.

    Args:
        check: Raises when the schema is not usable.
        recheck_seconds: How long a pass is trusted.
    """

    def __init__(self, check: Callable[[], Awaitable[None]], recheck_seconds: float) -> None:
        self._check = check
        self._recheck_seconds = recheck_seconds
        self._passed_at: float | None = None

    async def __call__(self) -> None:
        """Return if the check passed within ``recheck_seconds``, or passes now."""
        passed_at = self._passed_at
        if passed_at is not None and time.monotonic() - passed_at < self._recheck_seconds:
            return
        self._passed_at = None
        await self._check()
        self._passed_at = time.monotonic()


async def documents_version(database: AsyncDatabase[Document]) -> int:
    """The shape stored documents have (0 for a database never migrated)."""
    marker = database.get_collection(SCHEMA, read_preference=ReadPreference.PRIMARY)
    found = await marker.find_one({"_id": "documents"})
    return 0 if found is None else int(found["version"])
