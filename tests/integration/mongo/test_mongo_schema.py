"""The MongoDB adapter's indexes: created idempotently, required at run time, used by queries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.mongo.standins import StandInDatabase
from tests.integration.mongo.support import mongo_database, real_server_only
from usercore.adapters.mongo import (
    MongoSessionRepository,
    MongoStore,
    MongoUserRepository,
    migrate_schema,
)
from usercore.adapters.mongo.documents import user_to_document
from usercore.adapters.mongo.schema import ListedIndex, index_problems
from usercore.domain.email import Email
from usercore.ports.errors import SchemaOutOfDateError
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

NOW = datetime(2100, 1, 1, tzinfo=UTC)


def _keys(spec: Mapping[str, Any]) -> list[str]:
    return [field for field, _ in spec["key"]]


async def test_migration_creates_the_indexes_the_queries_need() -> None:
    async with mongo_database() as database:
        users = await database.get_collection("users").index_information()
        sessions = await database.get_collection("sessions").index_information()
    # One account per normalised email; serves get_by_email and email_prefix ranges.
    assert users["email_unique"]["unique"] is True
    assert _keys(users["email_unique"]) == ["email"]
    # Role and activity filters walk the index in page (_id) order.
    assert _keys(users["roles_id"]) == ["roles", "_id"]
    assert _keys(users["is_active_id"]) == ["is_active", "_id"]
    # A user's sessions, oldest first: list_for_user, revoke_all, delete.
    assert _keys(sessions["user_id_created_at"]) == ["user_id", "created_at", "_id"]
    # The server purges a session once expires_at has passed; serves purge.
    assert _keys(sessions["expires_at_ttl"]) == ["expires_at"]
    assert sessions["expires_at_ttl"]["expireAfterSeconds"] == 0


async def test_migration_is_idempotent() -> None:
    async with mongo_database() as database:
        before = await database.get_collection("users").index_information()
        await migrate_schema(database)
        await migrate_schema(database)
        assert await database.get_collection("users").index_information() == before


async def test_the_adapter_refuses_a_database_without_the_unique_email_index() -> None:
    make = RecordFactory()
    async with mongo_database(indexed=False) as database:
        store = MongoStore(database)
        users, sessions = MongoUserRepository(store), MongoSessionRepository(store)
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await users.add(make.user())
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await sessions.purge(now=NOW)
        assert await database.get_collection("users").count_documents({}) == 0
        await migrate_schema(database)
        user = make.user()
        await users.add(user)
        assert await users.get(user.id) == user


async def test_the_adapter_refuses_an_index_still_being_built() -> None:
    make = RecordFactory()
    async with mongo_database() as database:
        inspected = StandInDatabase(database, building={("users", "email_unique")})
        users = MongoUserRepository(MongoStore(inspected))  # type: ignore[arg-type]
        with pytest.raises(SchemaOutOfDateError, match=r"email_unique.*still being built"):
            await users.add(make.user())
        inspected.building.clear()  # the build finished: no restart needed
        user = make.user()
        await users.add(user)
        assert await users.get(user.id) == user


async def test_the_adapter_refuses_a_unique_email_index_with_other_options() -> None:
    async with mongo_database() as database:
        users = database.get_collection("users")
        await users.drop_index("email_unique")
        # Unique only among active users: an inactive account's email could be taken again.
        await users.create_index(
            [("email", 1)],
            name="email_unique",
            unique=True,
            partialFilterExpression={"is_active": True},
        )
        with pytest.raises(SchemaOutOfDateError, match=r"email_unique.*other options"):
            await MongoUserRepository(MongoStore(database)).get_by_email(Email("a@example.com"))


async def test_the_adapter_refuses_a_collection_with_a_default_collation() -> None:
    # A case-insensitive collation would make "A@x" and "a@x" equal and bend the prefix range.
    async with mongo_database() as database:
        inspected = StandInDatabase(database, collations={"users": {"locale": "en", "strength": 2}})
        users = MongoUserRepository(MongoStore(inspected))  # type: ignore[arg-type]
        with pytest.raises(SchemaOutOfDateError, match=r"users.*collation"):
            await users.get(RecordFactory().user().id)


async def test_the_schema_is_checked_again_after_the_recheck_interval() -> None:
    make = RecordFactory()
    async with mongo_database() as database:
        store = MongoStore(database, schema_recheck_seconds=0)
        users = MongoUserRepository(store)
        await users.add(make.user())
        await database.get_collection("users").drop_index("email_unique")
        with pytest.raises(SchemaOutOfDateError, match="email_unique"):
            await users.add(make.user())


async def test_a_passed_check_is_trusted_until_the_recheck_interval() -> None:
    make = RecordFactory()
    async with mongo_database() as database:
        inspected = StandInDatabase(database)
        users = MongoUserRepository(MongoStore(inspected, schema_recheck_seconds=3600))  # type: ignore[arg-type]
        await users.add(make.user())
        inspected.building.add(("users", "email_unique"))
        await users.add(make.user())


def test_an_index_made_by_hand_under_another_name_is_accepted() -> None:
    # mongosh writes key directions as doubles; the name does not matter.
    listed = [
        ListedIndex(spec={"name": "by_hand", "key": {"expires_at": 1.0}, "expireAfterSeconds": 0})
    ]
    assert index_problems("login_throttle", listed) == []


def test_a_ttl_index_with_another_delay_is_refused() -> None:
    listed = [
        ListedIndex(
            spec={"name": "expires_at_ttl", "key": {"expires_at": 1}, "expireAfterSeconds": 3600}
        )
    ]
    assert index_problems("login_throttle", listed) == [
        "login_throttle.expires_at_ttl: an index on the same keys has other options "
        "({'expireAfterSeconds': 3600}, needs {'expireAfterSeconds': 0}); drop it"
    ]


async def test_ping_does_not_need_the_schema() -> None:
    async with mongo_database(indexed=False) as database:
        await MongoUserRepository(MongoStore(database)).ping()


def _stages(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every stage of a winning plan, through each shard's plan when explained by mongos."""
    stages = [plan]
    for key in ("inputStage", "queryPlan", "winningPlan"):
        if isinstance(plan.get(key), Mapping):
            stages.extend(_stages(plan[key]))
    for child in (*plan.get("inputStages", []), *plan.get("shards", [])):
        stages.extend(_stages(child))
    return stages


def test_plans_explained_by_mongos_are_read_shard_by_shard() -> None:
    # mongos answers with one winning plan per shard under "shards".
    sharded = {
        "stage": "SHARD_MERGE",
        "shards": [
            {
                "shardName": "rs0",
                "winningPlan": {
                    "stage": "FETCH",
                    "inputStage": {"stage": "IXSCAN", "indexName": "email_unique"},
                },
            },
            {"shardName": "rs1", "winningPlan": {"stage": "COLLSCAN"}},
        ],
    }
    found = _stages(sharded)
    assert {stage.get("indexName") for stage in found} >= {"email_unique"}
    assert any(stage.get("stage") == "COLLSCAN" for stage in found)


async def _index_used(database: Any, collection: str, find: Mapping[str, Any]) -> set[str]:
    explained = await database.command({"explain": {"find": collection, **find}})
    stages = _stages(explained["queryPlanner"]["winningPlan"])
    assert all(stage.get("stage") != "COLLSCAN" for stage in stages), stages
    return {stage["indexName"] for stage in stages if "indexName" in stage}


@real_server_only
async def test_the_queries_are_served_by_the_indexes() -> None:
    # mongomock-motor has no query planner, so this needs a real server.
    async with mongo_database() as database:
        assert await _index_used(database, "users", {"filter": {"email": "a@example.com"}}) == {
            "email_unique"
        }
        prefix = {"filter": {"email": {"$gte": "ad", "$lt": "ae"}}, "sort": {"_id": 1}}
        assert await _index_used(database, "users", prefix)
        by_role = {"filter": {"roles": "admin"}, "sort": {"_id": 1}}
        assert await _index_used(database, "users", by_role)
        own = {"filter": {"user_id": 1}, "sort": {"created_at": 1, "_id": 1}}
        assert await _index_used(database, "sessions", own) == {"user_id_created_at"}
        expired = {"filter": {"expires_at": {"$lte": NOW}}}
        assert await _index_used(database, "sessions", expired) == {"expires_at_ttl"}


async def test_migration_keeps_sessions_voided_by_time_void_and_adds_epochs() -> None:
    # Documents as the first release stored them: revocation by time.
    make = RecordFactory()
    user = make.user()
    valid_after = NOW + timedelta(seconds=100)
    async with mongo_database() as database:
        users, sessions = database.get_collection("users"), database.get_collection("sessions")
        document = user_to_document(user)
        del document["credential_epoch"]
        await users.insert_one({**document, "sessions_valid_after": valid_after})
        for session_id, created in (("before-change", 50), ("after-change", 150)):
            await sessions.insert_one(
                {
                    "_id": session_id,
                    "user_id": document["_id"],
                    "token_hash": "h",
                    "previous_hashes": [],
                    "generation": 0,
                    "created_at": NOW + timedelta(seconds=created),
                    "last_used_at": NOW + timedelta(seconds=created),
                    "expires_at": NOW + timedelta(days=1),
                    "revoked_at": None,
                }
            )
        await database.get_collection("usercore_schema").delete_many({})
        store = MongoStore(database)
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await MongoUserRepository(store).get(user.id)

        await migrate_schema(database)

        store = MongoStore(database)
        stored = await MongoUserRepository(store).get(user.id)
        before = await MongoSessionRepository(store).get("before-change")
        after = await MongoSessionRepository(store).get("after-change")
        assert stored is not None
        assert before is not None
        assert after is not None
        assert stored.credential_epoch == before.epoch == after.epoch == 1
        assert before.revoked_at == valid_after
        assert after.revoked_at is None
        assert "sessions_valid_after" not in (await users.find_one({}) or {})
