"""Writes whose answer was lost: read back from the primary, report what really happened.

A network error, a timeout or a write concern error after the command
reached the server may leave the write applied. The stand-ins apply the
write, then raise, as such a server would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
    WriteConcernError,
)

from tests.contract.token_kit import token_kit
from tests.integration.mongo.standins import FailingCollection, StandInDatabase
from tests.integration.mongo.support import mongo_database
from usercore.adapters.mongo import (
    MongoEventLog,
    MongoSessionRepository,
    MongoStore,
    MongoUserRepository,
)
from usercore.adapters.mongo.documents import user_to_document
from usercore.domain.errors import EmailTakenError, VersionConflictError
from usercore.ports.errors import OutcomeUnknownError, StorageUnavailableError
from usercore.testing import RecordFactory, Repositories

pytestmark = pytest.mark.mongo

NOW = datetime(2100, 1, 1, tzinfo=UTC)
LOST_ANSWERS = [
    pytest.param(NetworkTimeout("timed out"), id="network-timeout"),
    pytest.param(AutoReconnect("connection closed"), id="connection-lost"),
    pytest.param(ExecutionTimeout("operation exceeded time limit", 50), id="execution-timeout"),
    pytest.param(
        WriteConcernError("waiting for replication timed out", 64, {"wtimeout": True}),
        id="write-concern-error",
    ),
]


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_database() as database:
        yield MongoStore(database)


@pytest.fixture
def make() -> RecordFactory:
    factory = RecordFactory()
    factory.clock.set(NOW)
    return factory


def _lose_answer(store: MongoStore, collection: str, method: str, error: Exception) -> None:
    wrapped = FailingCollection(getattr(store, collection), method, error, applied=True)
    setattr(store, collection, wrapped)


def _drop_write(store: MongoStore, collection: str, method: str, error: Exception) -> None:
    wrapped = FailingCollection(getattr(store, collection), method, error, applied=False)
    setattr(store, collection, wrapped)


@pytest.mark.parametrize("error", LOST_ANSWERS)
async def test_a_registration_applied_before_the_answer_was_lost_succeeds(
    store: MongoStore, make: RecordFactory, error: Exception
) -> None:
    users = MongoUserRepository(store)
    user = make.user()
    _lose_answer(store, "users", "insert_one", error)
    await users.add(user)
    assert await users.get(user.id) == user


async def test_a_registration_not_applied_is_an_unknown_outcome(
    store: MongoStore, make: RecordFactory
) -> None:
    users = MongoUserRepository(store)
    user = make.user()
    _drop_write(store, "users", "insert_one", NetworkTimeout("timed out"))
    with pytest.raises(OutcomeUnknownError) as raised:
        await users.add(user)
    assert isinstance(raised.value, StorageUnavailableError)
    assert await users.get(user.id) is None


async def test_a_registration_lost_while_another_took_the_email_is_email_taken(
    store: MongoStore, make: RecordFactory
) -> None:
    users = MongoUserRepository(store)
    first = make.user()
    await users.add(first)
    second = attrs.evolve(make.user(), email=first.email)
    _drop_write(store, "users", "insert_one", AutoReconnect("connection closed"))
    with pytest.raises(EmailTakenError):
        await users.add(second)


async def test_an_error_before_anything_was_sent_is_not_read_back(
    store: MongoStore, make: RecordFactory
) -> None:
    users = MongoUserRepository(store)
    _drop_write(store, "users", "insert_one", ServerSelectionTimeoutError("no primary"))
    with pytest.raises(StorageUnavailableError) as raised:
        await users.add(make.user())
    assert not isinstance(raised.value, OutcomeUnknownError)


@pytest.mark.parametrize("error", LOST_ANSWERS)
async def test_an_update_applied_before_the_answer_was_lost_succeeds(
    store: MongoStore, make: RecordFactory, error: Exception
) -> None:
    users = MongoUserRepository(store)
    user = make.user()
    await users.add(user)
    renamed = user.with_profile(now=make.clock.advance(), name="Ada")
    _lose_answer(store, "users", "update_one", error)
    await users.update(renamed, expected_version=user.version)
    assert await users.get(user.id) == renamed


async def test_an_update_lost_while_another_writer_won_is_a_version_conflict(
    store: MongoStore, make: RecordFactory
) -> None:
    users = MongoUserRepository(store)
    user = make.user()
    await users.add(user)
    theirs = user.with_profile(now=make.clock.advance(), name="Theirs")
    await users.update(theirs, expected_version=user.version)
    mine = user.with_profile(now=make.clock.advance(), name="Mine")
    _drop_write(store, "users", "update_one", NetworkTimeout("timed out"))
    with pytest.raises(VersionConflictError):
        await users.update(mine, expected_version=user.version)
    assert await users.get(user.id) == theirs


async def test_a_session_added_before_the_answer_was_lost_is_there(
    store: MongoStore, make: RecordFactory
) -> None:
    user = make.user()
    await MongoUserRepository(store).add(user)
    sessions = MongoSessionRepository(store)
    session = make.session(user)
    _lose_answer(store, "sessions", "insert_one", NetworkTimeout("timed out"))
    await sessions.add(session)
    assert await sessions.get(session.id) == session


async def test_a_rotation_applied_before_the_answer_was_lost_reports_it_won(
    store: MongoStore, make: RecordFactory
) -> None:
    user = make.user()
    await MongoUserRepository(store).add(user)
    sessions = MongoSessionRepository(store)
    session = make.session(user, token_hash="h0")
    await sessions.add(session)
    rotated = session.rotated(token_hash="h1", now=make.clock.advance(), expires_at=NOW)
    _lose_answer(store, "sessions", "update_one", NetworkTimeout("timed out"))
    assert await sessions.rotate(session, rotated) is True
    assert await sessions.get(session.id) == rotated


async def test_a_rotation_lost_while_another_won_reports_it_lost(
    store: MongoStore, make: RecordFactory
) -> None:
    user = make.user()
    await MongoUserRepository(store).add(user)
    sessions = MongoSessionRepository(store)
    session = make.session(user, token_hash="h0")
    await sessions.add(session)
    theirs = session.rotated(token_hash="theirs", now=make.clock.advance(), expires_at=NOW)
    assert await sessions.rotate(session, theirs)
    mine = session.rotated(token_hash="mine", now=make.clock.now(), expires_at=NOW)
    _drop_write(store, "sessions", "update_one", AutoReconnect("connection closed"))
    assert await sessions.rotate(session, mine) is False


async def test_a_rotation_not_applied_is_an_unknown_outcome_not_a_lost_race(
    store: MongoStore, make: RecordFactory
) -> None:
    # Reporting False would make the caller treat its own retry as token reuse.
    user = make.user()
    await MongoUserRepository(store).add(user)
    sessions = MongoSessionRepository(store)
    session = make.session(user, token_hash="h0")
    await sessions.add(session)
    rotated = session.rotated(token_hash="h1", now=make.clock.advance(), expires_at=NOW)
    _drop_write(store, "sessions", "update_one", NetworkTimeout("timed out"))
    with pytest.raises(OutcomeUnknownError):
        await sessions.rotate(session, rotated)


async def test_a_revocation_applied_before_the_answer_was_lost_reports_it(
    store: MongoStore, make: RecordFactory
) -> None:
    user = make.user()
    await MongoUserRepository(store).add(user)
    sessions = MongoSessionRepository(store)
    session = make.session(user)
    await sessions.add(session)
    _lose_answer(store, "sessions", "update_one", NetworkTimeout("timed out"))
    assert await sessions.revoke(session.id, now=NOW + timedelta(seconds=1)) is True


async def test_when_the_read_back_fails_too_the_outcome_is_unknown(make: RecordFactory) -> None:
    user = make.user()
    async with mongo_database() as database:
        unreachable = StandInDatabase(
            database,
            collections={
                "users": lambda c: FailingCollection(
                    c, "find_one", AutoReconnect("connection closed"), times=100
                )
            },
        )
        store = MongoStore(unreachable)  # type: ignore[arg-type]
        _lose_answer(store, "users", "insert_one", NetworkTimeout("timed out"))
        with pytest.raises(OutcomeUnknownError):
            await MongoUserRepository(store).add(user)
        assert await database.get_collection("users").find_one(user_to_document(user)) is not None


async def test_a_refresh_whose_rotation_answer_was_lost_succeeds_and_the_session_lives(
    store: MongoStore,
) -> None:
    kit = token_kit(
        Repositories(
            users=MongoUserRepository(store),
            sessions=MongoSessionRepository(store),
            events=MongoEventLog(store),
        ),
        now=NOW,
    )
    first = await kit.log_in()
    _lose_answer(store, "sessions", "update_one", NetworkTimeout("timed out"))
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    third = await kit.tokens.refresh_grant(refresh_token=second.refresh_token)
    assert await kit.tokens.authenticate(access_token=third.access_token)


class _CommandsFail(StandInDatabase):
    async def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        raise AutoReconnect("connection closed")


async def test_a_failure_before_the_write_is_not_read_back(make: RecordFactory) -> None:
    # The schema check failed: nothing was written, so nothing is unknown.
    async with mongo_database() as database:
        store = MongoStore(_CommandsFail(database))  # type: ignore[arg-type]
        with pytest.raises(StorageUnavailableError) as raised:
            await MongoUserRepository(store).add(make.user())
    assert not isinstance(raised.value, OutcomeUnknownError)
