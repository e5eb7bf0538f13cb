"""PostgreSQL writes whose answer was lost after COMMIT: read back, report what really happened.

A TCP proxy lets the statement through and drops the server's reply (its
command tag says it committed), cutting the connection, as a network
failure at that moment would.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.contract.token_kit import token_kit
from tests.integration.sqlalchemy.proxy import FaultProxy
from tests.integration.sqlalchemy.support import empty_postgres, open_database, repositories_on
from usercore.adapters.sqlalchemy import SqlAlchemyDatabase
from usercore.domain.errors import VersionConflictError
from usercore.ports.errors import OutcomeUnknownError, StorageUnavailableError
from usercore.testing import RecordFactory, Repositories

pytestmark = pytest.mark.postgres

NOW = datetime(2100, 1, 1, tzinfo=UTC)


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[FaultProxy]:
    await empty_postgres(postgres_url)
    url = sa.make_url(postgres_url)
    fault_proxy = FaultProxy(url.host or "127.0.0.1", url.port or 5432)
    await fault_proxy.start()
    yield fault_proxy
    await fault_proxy.close()


@pytest.fixture
async def database(postgres_url: str, proxy: FaultProxy) -> AsyncIterator[SqlAlchemyDatabase]:
    url = sa.make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    database = open_database(url.render_as_string(hide_password=False), timeout_seconds=2.0)
    yield database
    await database.dispose()


@pytest.fixture
def repos(database: SqlAlchemyDatabase) -> Repositories:
    return repositories_on(database)


@pytest.fixture
def make() -> RecordFactory:
    factory = RecordFactory()
    factory.clock.set(NOW)
    return factory


async def test_a_registration_committed_before_the_answer_was_lost_succeeds(
    proxy: FaultProxy, repos: Repositories, make: RecordFactory
) -> None:
    user = make.user()
    proxy.lose_reply_containing(b"INSERT 0 1")
    await repos.users.add(user)
    assert proxy.replies_lost == 1
    assert await repos.users.get(user.id) == user


async def test_an_update_committed_before_the_answer_was_lost_succeeds(
    proxy: FaultProxy, repos: Repositories, make: RecordFactory
) -> None:
    user = make.user()
    await repos.users.add(user)
    renamed = user.with_profile(now=make.clock.advance(), name="Ada")
    proxy.lose_reply_containing(b"UPDATE 1")
    await repos.users.update(renamed, expected_version=user.version)
    assert proxy.replies_lost == 1
    assert await repos.users.get(user.id) == renamed
    # Retrying the same change now is the real conflict, not a silent success.
    with pytest.raises(VersionConflictError):
        await repos.users.update(renamed, expected_version=user.version)


async def test_a_session_and_its_rotation_committed_before_the_answer_was_lost_succeed(
    proxy: FaultProxy, repos: Repositories, make: RecordFactory
) -> None:
    user = make.user()
    await repos.users.add(user)
    session = make.session(user, token_hash="h0")
    proxy.lose_reply_containing(b"INSERT 0 1")
    await repos.sessions.add(session)
    assert await repos.sessions.get(session.id) == session
    rotated = session.rotated(token_hash="h1", now=make.clock.advance(), expires_at=NOW)
    proxy.lose_reply_containing(b"UPDATE 1")
    assert await repos.sessions.rotate(session, rotated) is True
    assert proxy.replies_lost == 2
    proxy.lose_reply_containing(b"UPDATE 1")
    assert await repos.sessions.revoke(session.id, now=NOW + timedelta(seconds=5)) is True
    assert proxy.replies_lost == 3


async def test_a_delete_whose_answer_was_lost_is_an_unknown_outcome(
    proxy: FaultProxy, repos: Repositories, make: RecordFactory
) -> None:
    user = make.user()
    await repos.users.add(user)
    proxy.lose_reply_containing(b"DELETE 1")
    with pytest.raises(OutcomeUnknownError) as raised:
        await repos.users.delete(user.id)
    assert isinstance(raised.value, StorageUnavailableError)
    assert await repos.users.get(user.id) is None


async def test_a_refresh_whose_rotation_answer_was_lost_succeeds_and_the_session_lives(
    proxy: FaultProxy, repos: Repositories
) -> None:
    kit = token_kit(repos, now=NOW)
    first = await kit.log_in()
    proxy.lose_reply_containing(b"UPDATE 1")
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    assert proxy.replies_lost == 1
    third = await kit.tokens.refresh_grant(refresh_token=second.refresh_token)
    assert await kit.tokens.authenticate(access_token=third.access_token)
