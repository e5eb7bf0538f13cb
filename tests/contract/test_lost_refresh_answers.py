"""A refresh whose answer the client lost, retried: on every backend, the reuse interval decides.

Within the interval the retry rotates again and the session lives on;
after it, the retry is reuse and the whole session is revoked.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.contract.backends import open_backend, postgres_url, repositories, sqlite_template
from tests.contract.token_kit import token_kit
from usercore.domain.errors import InvalidTokenError
from usercore.testing import Repositories

__all__ = ["open_backend", "postgres_url", "repositories", "sqlite_template"]  # fixtures

START = datetime(2100, 3, 1, 12, 0, 0, tzinfo=UTC)
INTERVAL = 20


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
