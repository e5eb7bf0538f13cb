"""A refresh whose answer the client lost, retried: on every backend, the reuse interval decides.

Within the interval the retry rotates again and the session lives on;
after it, the retry is reuse and the whole session is revoked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.contract.test_memory import memory_repositories
from tests.contract.token_kit import token_kit
from tests.integration.mongo.support import mongo_repositories
from tests.integration.sqlalchemy.support import (
    fresh_sqlite,
    postgres_url,
    sql_repositories,
    sqlite_template,
)
from usercore.domain.errors import InvalidTokenError
from usercore.testing import Repositories

__all__ = ["postgres_url", "sqlite_template"]

START = datetime(2100, 3, 1, 12, 0, 0, tzinfo=UTC)
INTERVAL = 20

Opener = Callable[[], AbstractAsyncContextManager[Repositories]]


@pytest.fixture(
    params=[
        "memory",
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mongo", marks=pytest.mark.mongo),
    ]
)
def open_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    if request.param == "sqlite":
        url = fresh_sqlite(request.getfixturevalue("sqlite_template"), tmp_path)
        return lambda: sql_repositories(url)
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        return lambda: sql_repositories(url, empty_first=True)
    return mongo_repositories if request.param == "mongo" else memory_repositories


@pytest.fixture
async def repositories(open_backend: Opener) -> AsyncIterator[Repositories]:
    async with open_backend() as repositories:
        yield repositories


async def test_a_retry_within_the_interval_succeeds_and_the_session_lives(
    repositories: Repositories,
) -> None:
    kit = token_kit(repositories, now=START, refresh_reuse_interval_seconds=INTERVAL)
    first = await kit.log_in()
    await kit.tokens.refresh_grant(refresh_token=first.refresh_token)  # its answer is lost
    kit.clock.advance(INTERVAL // 2)
    retried = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    following = await kit.tokens.refresh_grant(refresh_token=retried.refresh_token)
    assert await kit.tokens.authenticate(access_token=following.access_token)


async def test_a_retry_after_the_interval_revokes_the_session(repositories: Repositories) -> None:
    kit = token_kit(repositories, now=START, refresh_reuse_interval_seconds=INTERVAL)
    first = await kit.log_in()
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    kit.clock.advance(INTERVAL + 1)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=second.refresh_token)
