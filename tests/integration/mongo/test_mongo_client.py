"""The client usercore builds from a database URL: bounded timeouts, URL options win, no I/O."""

from __future__ import annotations

import pytest
from bson.binary import UuidRepresentation

from usercore.adapters.mongo import default_database, mongo_client

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
        assert client.write_concern.document == {"w": "majority"}
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
