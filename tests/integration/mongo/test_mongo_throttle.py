"""The MongoDB throttle store: its TTL index, required at run time and serving purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.mongo.standins import StandInDatabase
from tests.integration.mongo.support import mongo_database, real_server_only
from usercore.adapters.mongo import MongoStore, MongoThrottleStore, migrate_schema
from usercore.ports.errors import SchemaOutOfDateError

pytestmark = pytest.mark.mongo

NOW = datetime(2100, 1, 1, tzinfo=UTC)


async def test_migration_creates_a_ttl_index_on_expires_at() -> None:
    async with mongo_database() as database:
        indexes = await database.get_collection("login_throttle").index_information()
    assert [field for field, _ in indexes["expires_at_ttl"]["key"]] == ["expires_at"]
    assert indexes["expires_at_ttl"]["expireAfterSeconds"] == 0


async def test_the_store_refuses_a_collection_without_the_ttl_index() -> None:
    async with mongo_database(indexed=False) as database:
        store = MongoThrottleStore(MongoStore(database))
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await store.record_failure("k", now=NOW, expires_at=NOW + timedelta(hours=1))
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await store.get("k")
        assert await database.get_collection("login_throttle").count_documents({}) == 0
        await migrate_schema(database)
        assert (
            await store.record_failure("k", now=NOW, expires_at=NOW + timedelta(1))
        ).failures == 1


async def test_the_store_refuses_a_ttl_index_still_being_built() -> None:
    async with mongo_database() as database:
        inspected = StandInDatabase(database, building={("login_throttle", "expires_at_ttl")})
        store = MongoThrottleStore(MongoStore(inspected))  # type: ignore[arg-type]
        with pytest.raises(SchemaOutOfDateError, match=r"expires_at_ttl.*still being built"):
            await store.get("k")
        inspected.building.clear()
        assert await store.get("k") is None


async def test_records_hold_no_more_than_the_count_and_the_times() -> None:
    async with mongo_database() as database:
        store = MongoThrottleStore(MongoStore(database))
        await store.record_failure("k", now=NOW, expires_at=NOW + timedelta(hours=1))
        document = await database.get_collection("login_throttle").find_one({"_id": "k"})
    assert document is not None
    assert set(document) == {"_id", "failures", "last_failure_at", "expires_at"}


@real_server_only
async def test_purge_is_served_by_the_ttl_index() -> None:
    # mongomock-motor has no query planner, so this needs a real server.
    async with mongo_database() as database:
        explained = await database.command(
            {
                "explain": {
                    "delete": "login_throttle",
                    "deletes": [{"q": {"expires_at": {"$lte": NOW}}, "limit": 0}],
                }
            }
        )
    assert "expires_at_ttl" in str(explained["queryPlanner"]["winningPlan"])
