"""The MongoDB adapter's indexes: created idempotently, required at run time, used by queries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.mongo.support import mongo_database, real_server_only
from usercore.adapters.mongo import (
    MongoSessionRepository,
    MongoStore,
    MongoUserRepository,
    create_indexes,
)
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
    # The server purges a session once expires_at has passed; serves delete_expired.
    assert _keys(sessions["expires_at_ttl"]) == ["expires_at"]
    assert sessions["expires_at_ttl"]["expireAfterSeconds"] == 0


async def test_migration_is_idempotent() -> None:
    async with mongo_database() as database:
        before = await database.get_collection("users").index_information()
        await create_indexes(database)
        await create_indexes(database)
        assert await database.get_collection("users").index_information() == before


async def test_the_adapter_refuses_a_database_without_the_unique_email_index() -> None:
    make = RecordFactory()
    async with mongo_database(indexed=False) as database:
        store = MongoStore(database)
        users, sessions = MongoUserRepository(store), MongoSessionRepository(store)
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await users.add(make.user())
        with pytest.raises(SchemaOutOfDateError, match="usercore migrate"):
            await sessions.delete_expired(now=NOW)
        assert await database.get_collection("users").count_documents({}) == 0
        await create_indexes(database)
        user = make.user()
        await users.add(user)
        assert await users.get(user.id) == user


async def test_ping_does_not_need_the_schema() -> None:
    async with mongo_database(indexed=False) as database:
        await MongoUserRepository(MongoStore(database)).ping()


def _stages(plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    stages = [plan]
    for key in ("inputStage", "queryPlan"):
        if isinstance(plan.get(key), Mapping):
            stages.extend(_stages(plan[key]))
    for child in plan.get("inputStages", []):
        stages.extend(_stages(child))
    return stages


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
