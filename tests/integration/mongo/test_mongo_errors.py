"""Every driver and BSON error is translated at the boundary: no pymongo or bson error escapes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import attrs
import pytest
from bson.errors import InvalidBSON, InvalidDocument
from pymongo.errors import DocumentTooLarge, OperationFailure

from tests.integration.mongo.standins import EncodingCollection, FailingCollection
from tests.integration.mongo.support import mongo_database
from usercore.adapters.mongo import MongoSessionRepository, MongoStore, MongoUserRepository
from usercore.domain.email import Email
from usercore.domain.errors import ValidationError
from usercore.domain.listing import UserQuery
from usercore.ports.errors import StorageUnavailableError
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

NOW = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_database() as database:
        yield MongoStore(database)


async def test_text_bson_cannot_hold_is_a_validation_error_when_written(
    store: MongoStore,
) -> None:
    store.users = EncodingCollection(store.users)  # type: ignore[assignment]
    user = attrs.evolve(RecordFactory().user(), name="half a pair \ud800")
    with pytest.raises(ValidationError) as raised:
        await MongoUserRepository(store).add(user)
    assert isinstance(raised.value.__cause__, UnicodeEncodeError)


async def test_text_bson_cannot_hold_matches_nothing_when_read(store: MongoStore) -> None:
    store.users = EncodingCollection(store.users)  # type: ignore[assignment]
    users = MongoUserRepository(store)
    assert await users.get_by_email(Email("lone\udc00@example.com")) is None
    page = await users.list(UserQuery(email_prefix="lone\udc00"))
    assert page.items == ()
    assert page.next_cursor is None


@pytest.mark.parametrize(
    "error",
    [DocumentTooLarge("BSON document too large"), InvalidDocument("cannot encode object")],
)
async def test_a_document_that_cannot_be_stored_is_a_validation_error(
    store: MongoStore, error: Exception
) -> None:
    store.users = FailingCollection(store.users, "insert_one", error)  # type: ignore[assignment]
    with pytest.raises(ValidationError):
        await MongoUserRepository(store).add(RecordFactory().user())


async def test_a_reply_that_cannot_be_decoded_is_storage_unavailable(store: MongoStore) -> None:
    error = InvalidBSON("invalid UTF-8")
    store.sessions = FailingCollection(store.sessions, "find_one", error)  # type: ignore[assignment]
    with pytest.raises(StorageUnavailableError, match="cannot be decoded"):
        await MongoSessionRepository(store).get("0193e2a0-0000-7000-8000-000000000001")


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (OperationFailure("Authentication failed.", 18), "authentication failed.*authSource"),
        (OperationFailure("not authorized on usercore", 13), "not authorized"),
    ],
)
async def test_authentication_and_authorization_failures_are_named(
    store: MongoStore, error: Exception, named: str
) -> None:
    store.users = FailingCollection(store.users, "find_one", error)  # type: ignore[assignment]
    with pytest.raises(StorageUnavailableError, match=named):
        await MongoUserRepository(store).get(RecordFactory().user().id)
