"""The document mapping: UUIDs, time zones and the email prefix range, whatever the client."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from bson.binary import Binary, UuidRepresentation

from tests.integration.mongo.support import MONGO_URL, real_server_only
from usercore.adapters.mongo import MongoStore, MongoUserRepository, migrate_schema
from usercore.adapters.mongo.documents import aware, prefix_range, user_id_from, user_key
from usercore.domain.ids import UserId
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

USER_ID = UserId("0193e2a0-1234-7abc-8def-0123456789ab")


def test_user_ids_are_stored_as_standard_binary_uuids() -> None:
    key = user_key(USER_ID)
    assert key.subtype == 4
    assert user_id_from(key) == USER_ID
    assert user_id_from(uuid.UUID(USER_ID.value)) == USER_ID


def test_binary_order_is_id_order() -> None:
    ids = sorted(UserId(str(uuid.uuid4())) for _ in range(50))
    assert sorted(ids, key=lambda user_id: bytes(user_key(user_id))) == ids


def test_naive_and_offset_timestamps_read_back_as_aware_utc() -> None:
    moment = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
    assert aware(moment.replace(tzinfo=None)) == moment
    assert aware(moment).tzinfo is UTC
    shifted = moment.astimezone(timezone(timedelta(hours=2)))
    assert aware(shifted).tzinfo is UTC
    assert aware(shifted) == moment


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("ada", "adb"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff", None),
        ("x\ud7ff", "x\ue000"),
    ],
)
def test_prefix_range_bounds_exactly_the_strings_with_the_prefix(
    prefix: str, upper: str | None
) -> None:
    bounds = prefix_range(prefix)
    assert bounds is not None
    assert bounds["$gte"] == prefix
    assert bounds.get("$lt") == upper


def test_no_range_for_a_prefix_bson_cannot_hold() -> None:
    assert prefix_range("x\udfff") is None


@real_server_only
async def test_a_client_without_uuid_or_tz_options_reads_the_same_users() -> None:
    # The adapter writes binary UUIDs itself and makes naive dates aware, so a
    # database handed over by a default-configured client works the same.
    from pymongo import AsyncMongoClient

    assert MONGO_URL is not None
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL, serverSelectionTimeoutMS=5000
    )
    database = client.get_database(f"usercore_test_{uuid.uuid4().hex}")
    try:
        await migrate_schema(database)
        users = MongoUserRepository(MongoStore(database))
        user = RecordFactory().user()
        await users.add(user)
        stored = await database.get_collection("users").find_one({"_id": user_key(user.id)})
        assert stored is not None
        assert isinstance(stored["_id"], Binary)
        assert stored["_id"].as_uuid(UuidRepresentation.STANDARD) == uuid.UUID(user.id.value)
        assert await users.get(user.id) == user
    finally:
        await client.drop_database(database.name)
        await client.close()
