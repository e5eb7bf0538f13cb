"""Building the pymongo async client from a database URL, with bounded timeouts."""

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
    url: str, *, timeout_seconds: float = 5.0, pool_size: int | None = None
) -> AsyncMongoClient[Document]:
    """A client for ``url`` whose every wait is bounded by ``timeout_seconds``.

    Options written in the URL win over these defaults, so write and read
    concerns, timeouts and pool size can all be tuned there (production:
    ``w=majority``). No I/O happens here: the client connects on first use.

    Raises:
        ValueError: ``url`` is not a valid MongoDB connection string.
    """
    in_url = {name.lower() for name, _ in parse_qsl(urlsplit(url).query)}
    millis = max(1, round(timeout_seconds * 1000))
    options: dict[str, Any] = {
        name: millis for name in _TIMEOUT_OPTIONS if name.lower() not in in_url
    }
    if pool_size and "maxpoolsize" not in in_url:
        options["maxPoolSize"] = pool_size
    try:
        return AsyncMongoClient(url, uuidRepresentation="standard", tz_aware=True, **options)
    except (PyMongoError, ValueError) as exc:
        # pymongo refuses some malformed URLs with a plain ValueError.
        raise ValueError(f"not a usable MongoDB URL: {exc}") from None


def default_database(client: AsyncMongoClient[Document]) -> AsyncDatabase[Document]:
    """The database the client's URL names in its path, or ``usercore``."""
    return client.get_default_database(DEFAULT_DATABASE)
