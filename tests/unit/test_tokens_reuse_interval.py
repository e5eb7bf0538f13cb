"""The refresh reuse interval: a client retrying a refresh whose answer it lost stays logged in.

Off by default. Within the interval after a rotation, the immediately
previous refresh token rotates again (a fresh successor; the successor the
client never saw is void) instead of revoking the session; after it, or for
any older token, reuse revokes the whole session as always.
"""

from __future__ import annotations

import pytest

from tests.unit.test_tokens_grants import EMAIL, PASSWORD, Kit, make_kit
from usercore.domain.errors import InvalidTokenError
from usercore.services import SessionService

INTERVAL = 30


@pytest.fixture
def kit() -> Kit:
    return make_kit(refresh_reuse_interval_seconds=INTERVAL)


async def test_a_retry_within_the_interval_rotates_again_and_the_session_lives(kit: Kit) -> None:
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await kit.tokens.refresh_grant(refresh_token=first.refresh_token)  # the answer is lost
    kit.clock.advance(INTERVAL - 1)
    retried = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    session = await kit.session_of(retried.refresh_token)
    assert session.revoked_at is None
    assert await kit.tokens.authenticate(access_token=retried.access_token)
    assert await kit.tokens.refresh_grant(refresh_token=retried.refresh_token)


async def test_the_successor_the_client_never_saw_is_void(kit: Kit) -> None:
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    unseen = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    kit.clock.advance(1)
    retried = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=unseen.refresh_token)
    # Presenting it is reuse: the whole session ends.
    assert (await kit.session_of(retried.refresh_token)).revoked_at is not None


async def test_a_retry_after_the_interval_revokes_the_session(kit: Kit) -> None:
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    kit.clock.advance(INTERVAL + 1)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    assert (await kit.session_of(second.refresh_token)).revoked_at is not None
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=second.refresh_token)


async def test_only_the_immediately_previous_token_may_be_retried(kit: Kit) -> None:
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    third = await kit.tokens.refresh_grant(refresh_token=second.refresh_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    assert (await kit.session_of(third.refresh_token)).revoked_at is not None


async def test_a_retry_still_needs_the_current_credential_epoch(kit: Kit) -> None:
    user = await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    stored = await kit.user_repository.get(user.id)
    assert stored is not None
    await SessionService(
        users=kit.user_repository, sessions=kit.sessions, clock=kit.clock
    ).revoke_all(actor=stored)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)


async def test_off_by_default_a_retry_revokes_the_session() -> None:
    kit = make_kit()
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    assert (await kit.session_of(second.refresh_token)).revoked_at is not None
