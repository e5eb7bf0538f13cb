"""Sessions left behind by a user deletion that broke off half-way are never served."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.integration.mongo.support import mongo_database
from usercore.adapters.mongo import MongoSessionRepository, MongoStore, MongoUserRepository
from usercore.adapters.mongo.documents import user_key
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.testing import RecordFactory

pytestmark = pytest.mark.mongo

NOW = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
async def store() -> AsyncIterator[MongoStore]:
    async with mongo_database() as database:
        yield MongoStore(database)


@pytest.fixture
def make() -> RecordFactory:
    factory = RecordFactory()
    factory.clock.set(NOW)
    return factory


async def _orphan(store: MongoStore, make: RecordFactory) -> tuple[User, Session]:
    user = make.user()
    session = make.session(user, token_hash="h0")
    await MongoUserRepository(store).add(user)
    await MongoSessionRepository(store).add(session)
    # What a crash between delete's two operations leaves: the user document
    # is gone, its sessions are not.
    await store.users.delete_one({"_id": user_key(user.id)})
    return user, session


async def test_every_session_read_ignores_sessions_whose_user_is_gone(
    store: MongoStore, make: RecordFactory
) -> None:
    user, session = await _orphan(store, make)
    sessions = MongoSessionRepository(store)
    rotated = session.rotated(token_hash="h1", now=make.clock.advance(), expires_at=NOW)
    assert await sessions.get(session.id) is None
    assert await sessions.list_for_user(user.id) == []
    assert await sessions.rotate(session, rotated) is False
    assert await sessions.revoke(session.id, now=NOW) is False
    assert await sessions.revoke_all(user.id, now=NOW) == 0
    assert await store.sessions.count_documents({"_id": session.id, "token_hash": "h0"}) == 1


async def test_deleting_the_user_again_removes_the_orphans(
    store: MongoStore, make: RecordFactory
) -> None:
    user, session = await _orphan(store, make)
    assert await MongoUserRepository(store).delete(user.id) is False
    assert await store.sessions.count_documents({"_id": session.id}) == 0
