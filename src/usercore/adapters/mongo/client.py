"""Building the pymongo async client from a database URL: bounded waits, safe write options."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from usercore.adapters.mongo.documents import Document

#: The database used when the URL's path names none.
DEFAULT_DATABASE = "usercore"

_TIMEOUT_OPTIONS = ("serverSelectionTimeoutMS", "connectTimeoutMS", "socketTimeoutMS", "timeoutMS")


def mongo_client(
    url: str,
    *,
    timeout_seconds: float = 5.0,
    pool_size: int | None = None,
    operation_timeout_seconds: float | None = None,
) -> AsyncMongoClient[Document]:
    """A client for ``url`` whose every wait is bounded by ``timeout_seconds``.

    With ``operation_timeout_seconds`` (``usercore migrate``), only finding
    and connecting to the server keep that bound: each operation may take
    up to ``operation_timeout_seconds``, whatever the URL's ``timeoutMS``
    and ``socketTimeoutMS`` say.

    Options written in the URL win over these defaults, so timeouts, pool
    size and write concern can be tuned there. Writes default to
    ``w=majority`` with ``journal=true``: an acknowledged write then survives
    a failover, whatever the server's own default (``w:1`` on a replica set
    with an arbiter). Two options are refused because they break usercore's
    guarantees. No I/O happens here: the client connects on first use.

    Raises:
        ValueError: ``url`` is not a valid MongoDB connection string, or it
            asks for unacknowledged writes (``w=0``) or for reads from
            secondaries (any ``readPreference`` but ``primary``); the
            message names the option.
    """
    in_url = {name.lower(): value for name, value in parse_qsl(urlsplit(url).query)}
    _refuse_unsafe_options(in_url)
    millis = max(1, round(timeout_seconds * 1000))
    options: dict[str, Any] = {
        name: millis for name in _TIMEOUT_OPTIONS if name.lower() not in in_url
    }
    if operation_timeout_seconds is not None:
        # Not timeoutMS: pymongo's operation timeout also bounds server
        # selection, so an unreachable server would hold migrate that long.
        options["timeoutMS"] = None
        options["socketTimeoutMS"] = max(1, round(operation_timeout_seconds * 1000))
    if pool_size and "maxpoolsize" not in in_url:
        options["maxPoolSize"] = pool_size
    if "w" not in in_url:
        options["w"] = "majority"
    if "journal" not in in_url and "j" not in in_url:
        options["journal"] = True
    try:
        return AsyncMongoClient(url, uuidRepresentation="standard", tz_aware=True, **options)
    except (PyMongoError, ValueError) as exc:
        # pymongo refuses some malformed URLs with a plain ValueError.
        raise ValueError(f"not a usable MongoDB URL: {exc}") from None


def _refuse_unsafe_options(in_url: dict[str, str]) -> None:
    if in_url.get("w", "").strip() == "0":
        # With w=0 a duplicate registration is "acknowledged" as a success and
        # matched counts are unknown: compare-and-set would be guesswork.
        raise ValueError(
            "w=0 asks for unacknowledged writes, which would report refused writes as "
            "done; remove it (usercore defaults to w=majority)"
        )
    preference = in_url.get("readpreference", "primary")
    if preference.strip().lower() != "primary":
        # A secondary may lag: a just-issued refresh token would be unknown
        # and a version conflict would look like a missing user.
        raise ValueError(
            f"readPreference={preference}: usercore reads what it has just written, "
            "so it reads from the primary only; remove the option"
        )


def default_database(client: AsyncMongoClient[Document]) -> AsyncDatabase[Document]:
    """The database the client's URL names in its path, or ``usercore``."""
    return client.get_default_database(DEFAULT_DATABASE)
