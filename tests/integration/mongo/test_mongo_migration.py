"""`usercore migrate` on MongoDB: a line per index, and what to do when it can't migrate."""

from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure

from tests.integration.mongo.standins import FailingCollection, StandInDatabase
from tests.integration.mongo.support import mongo_database
from usercore.adapters.mongo import migrate_schema
from usercore.adapters.mongo.documents import user_to_document
from usercore.ports.errors import MigrationError
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

INDEXES = [
    "users.email_unique",
    "users.roles_id",
    "users.is_active_id",
    "users.pending_since",
    "sessions.user_id_created_at",
    "sessions.expires_at_ttl",
    "login_throttle.expires_at_ttl",
    "outbox.event_id_unique",
]


async def test_migrate_says_what_it_does_for_each_index() -> None:
    async with mongo_database(indexed=False) as database:
        first: list[str] = []
        await migrate_schema(database, progress=first.append)
        again: list[str] = []
        await migrate_schema(database, progress=again.append)
    assert [line.split(":")[0] for line in first if "built" in line] == INDEXES
    assert [line.split(":")[0] for line in again if "already there" in line] == INDEXES
    assert not [line for line in again if "built" in line]


async def test_migrate_lists_emails_held_by_more_than_one_account() -> None:
    make = RecordFactory()
    async with mongo_database(indexed=False) as database:
        users = database.get_collection("users")
        emails = ["twice@example.com"] * 2 + ["thrice@example.com"] * 3 + ["once@example.com"]
        for email in emails:
            document = user_to_document(make.user())
            await users.insert_one({**document, "email": email})
        with pytest.raises(MigrationError) as raised:
            await migrate_schema(database)
        # Nothing was half-done: the unique index is not there.
        assert "email_unique" not in await users.index_information()
    message = str(raised.value)
    assert "thrice@example.com (3)" in message
    assert "twice@example.com (2)" in message
    assert "once@example.com" not in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("code", "named"),
    [
        (85, r"users\.email_unique: .*same keys.*another name or.*other options.*drop"),
        (86, r"users\.email_unique: .*same name.*other keys.*drop"),
        (13, r"not authorized.*dbAdmin"),
    ],
)
async def test_migrate_names_conflicting_indexes_and_missing_privileges(
    code: int, named: str
) -> None:
    error = OperationFailure("refused", code)
    async with mongo_database(indexed=False) as database:
        refusing = StandInDatabase(
            database, collections={"users": lambda c: FailingCollection(c, "create_indexes", error)}
        )
        with pytest.raises(MigrationError, match=named):
            await migrate_schema(refusing)  # type: ignore[arg-type]


async def test_migrate_refuses_a_collection_with_a_default_collation() -> None:
    async with mongo_database(indexed=False) as database:
        await database.get_collection("users").insert_one({"_id": 1})
        collated = StandInDatabase(database, collations={"users": {"locale": "fr"}})
        with pytest.raises(MigrationError, match=r"users collection has a default collation"):
            await migrate_schema(collated)  # type: ignore[arg-type]
