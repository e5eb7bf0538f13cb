"""The client usercore builds from a database URL: bounded timeouts, safe options, no I/O."""

from __future__ import annotations

from typing import Any

import pytest
from bson.binary import UuidRepresentation
from pymongo import AsyncMongoClient, ReadPreference

from usercore.adapters.mongo import MongoStore, default_database, mongo_client
from usercore.config import SettingsError
from usercore.container.storage import migrate_storage

pytestmark = pytest.mark.mongo


async def test_every_wait_is_bounded_by_the_timeout_setting() -> None:
    client = mongo_client("mongodb://127.0.0.1:1/", timeout_seconds=2.5, pool_size=7)
    try:
        options = client.options
        assert options.server_selection_timeout == 2.5
        assert options.timeout == 2.5
        assert options.pool_options.connect_timeout == 2.5
        assert options.pool_options.socket_timeout == 2.5
        assert options.pool_options.max_pool_size == 7
        assert client.codec_options.tz_aware is True
        assert client.codec_options.uuid_representation == UuidRepresentation.STANDARD
    finally:
        await client.close()


async def test_options_in_the_url_win_over_the_defaults() -> None:
    url = "mongodb://127.0.0.1:1/app?w=majority&serverSelectionTimeoutMS=1234&maxPoolSize=3"
    client = mongo_client(url, timeout_seconds=5.0, pool_size=10)
    try:
        assert client.options.server_selection_timeout == 1.234
        assert client.options.timeout == 5.0
        assert client.options.pool_options.max_pool_size == 3
        assert client.write_concern.document == {"w": "majority", "j": True}
    finally:
        await client.close()


async def test_migrate_gets_a_long_bound_per_operation_and_the_short_one_to_connect() -> None:
    url = "mongodb://127.0.0.1:1/app?timeoutMS=5000&socketTimeoutMS=5000"
    client = mongo_client(url, timeout_seconds=2.0, operation_timeout_seconds=3600.0)
    try:
        options = client.options
        # No client-side operation timeout: it would also bound server selection.
        assert options.timeout is None
        assert options.pool_options.socket_timeout == 3600.0
        assert options.server_selection_timeout == 2.0
        assert options.pool_options.connect_timeout == 2.0
    finally:
        await client.close()


async def test_writes_default_to_majority_and_journal() -> None:
    client = mongo_client("mongodb://127.0.0.1:1/app")
    try:
        assert client.write_concern.document == {"w": "majority", "j": True}
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("query", "document"),
    [("w=1", {"w": 1, "j": True}), ("journal=false", {"w": "majority", "j": False})],
)
async def test_a_write_concern_in_the_url_wins(query: str, document: dict[str, Any]) -> None:
    client = mongo_client(f"mongodb://127.0.0.1:1/app?{query}")
    try:
        assert client.write_concern.document == document
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("w=0", "w=0"),
        ("readPreference=secondary", "readPreference=secondary"),
        ("readpreference=secondaryPreferred", "readPreference=secondaryPreferred"),
        ("readPreference=nearest", "readPreference=nearest"),
    ],
)
async def test_options_that_break_guarantees_are_refused_naming_them(
    query: str, named: str
) -> None:
    url = f"mongodb://127.0.0.1:1/app?{query}"
    with pytest.raises(ValueError, match=named):
        mongo_client(url)
    # At start, as one settings error naming the URL setting and the option.
    with pytest.raises(SettingsError, match=f"DATABASE_URL: .*{named}") as raised:
        await migrate_storage(url, 5, 0.5)
    assert "\n" not in str(raised.value)


async def test_usercore_collections_read_from_the_primary_whatever_the_client_says() -> None:
    # A database handed over by a client configured for secondary reads.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/app?readPreference=secondaryPreferred", connect=False
    )
    try:
        store = MongoStore(client.get_database("app"))
        assert store.users.read_preference == ReadPreference.PRIMARY
        assert store.sessions.read_preference == ReadPreference.PRIMARY
    finally:
        await client.close()


async def test_a_database_with_unacknowledged_writes_is_refused() -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/app?w=0", connect=False
    )
    try:
        with pytest.raises(ValueError, match="unacknowledged"):
            MongoStore(client.get_database("app"))
    finally:
        await client.close()


async def test_the_database_is_the_urls_path_or_usercore() -> None:
    named = mongo_client("mongodb://127.0.0.1:1/accounts")
    unnamed = mongo_client("mongodb://127.0.0.1:1/?w=1")
    try:
        assert default_database(named).name == "accounts"
        assert default_database(unnamed).name == "usercore"
    finally:
        await named.close()
        await unnamed.close()
