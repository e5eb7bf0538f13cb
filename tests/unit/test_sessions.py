"""Sessions a user can see and end; the per-user cap, the absolute lifetime, the purge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.test_tokens_grants import EMAIL, PASSWORD, Kit, make_kit
from usercore.domain.errors import (
    InvalidTokenError,
    PermissionDeniedError,
    SessionNotFoundError,
    UserNotFoundError,
    ValidationError,
)
from usercore.domain.ids import UserId
from usercore.domain.sessions import MAX_USER_AGENT_LENGTH
from usercore.services import SessionService, TokenPair


@pytest.fixture
def kit() -> Kit:
    return make_kit()


def _service(kit: Kit) -> SessionService:
    return SessionService(users=kit.user_repository, sessions=kit.sessions, clock=kit.clock)


def _session_id(pair: TokenPair) -> str:
    return pair.refresh_token.partition(".")[0]


async def test_lists_live_sessions_newest_first_with_their_user_agents(kit: Kit) -> None:
    user = await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD, user_agent="curl/8")
    kit.clock.advance(1)
    second = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD, user_agent="Fx")
    kit.clock.advance(1)
    ended = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await kit.tokens.revoke(token=ended.refresh_token)

    listed = await _service(kit).list_sessions(actor=user)

    assert [s.id for s in listed] == [_session_id(second), _session_id(first)]
    assert [s.user_agent for s in listed] == ["Fx", "curl/8"]
    assert listed[0].last_used_at == listed[0].created_at


async def test_user_agents_are_kept_printable_and_short(kit: Kit) -> None:
    user = await kit.register()
    agent = "Evil\x1b[2J\nAgent" + "x" * 1000
    await kit.tokens.password_grant(email=EMAIL, password=PASSWORD, user_agent=agent)
    (listed,) = await _service(kit).list_sessions(actor=user)
    assert listed.user_agent.startswith("Evil[2JAgent")
    assert len(listed.user_agent) == MAX_USER_AGENT_LENGTH


async def test_ending_one_session_stops_its_refresh_token_only(kit: Kit) -> None:
    user = await kit.register()
    mine = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    other = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    await _service(kit).revoke_session(actor=user, session_id=_session_id(mine))

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=mine.refresh_token)
    assert await kit.tokens.refresh_grant(refresh_token=other.refresh_token)
    with pytest.raises(SessionNotFoundError):  # already ended
        await _service(kit).revoke_session(actor=user, session_id=_session_id(mine))


async def test_nobody_can_end_or_learn_of_another_users_session(kit: Kit) -> None:
    await kit.register()
    mallory = await kit.register("mallory@example.com")
    victim = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    with pytest.raises(SessionNotFoundError):
        await _service(kit).revoke_session(actor=mallory, session_id=_session_id(victim))

    assert await kit.tokens.refresh_grant(refresh_token=victim.refresh_token)
    assert await _service(kit).list_sessions(actor=mallory) == []


async def test_a_malformed_session_id_is_a_validation_error(kit: Kit) -> None:
    user = await kit.register()
    with pytest.raises(ValidationError):
        await _service(kit).revoke_session(actor=user, session_id="../../etc")


async def test_log_out_everywhere_ends_every_session_and_access_token(kit: Kit) -> None:
    user = await kit.register()
    pairs = [await kit.tokens.password_grant(email=EMAIL, password=PASSWORD) for _ in range(3)]

    after = await _service(kit).revoke_all(actor=user)

    assert after.credential_epoch == user.credential_epoch + 1
    assert await _service(kit).list_sessions(actor=after) == []
    for pair in pairs:
        with pytest.raises(InvalidTokenError):
            await kit.tokens.authenticate(access_token=pair.access_token)
        with pytest.raises(InvalidTokenError):
            await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)
    fresh = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    assert (await kit.tokens.authenticate(access_token=fresh.access_token)).id == user.id


async def test_only_an_admin_ends_someone_elses_sessions(kit: Kit) -> None:
    admin = await kit.register("root@example.com", admin=True)
    user = await kit.register()
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    with pytest.raises(PermissionDeniedError):
        await _service(kit).admin_revoke_all(actor=user, user_id=admin.id)
    await _service(kit).admin_revoke_all(actor=admin, user_id=user.id)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)
    with pytest.raises(UserNotFoundError):
        await _service(kit).admin_revoke_all(
            actor=admin, user_id=UserId("0193a000-0000-7000-8000-0000000000aa")
        )


async def test_a_login_beyond_the_cap_ends_the_oldest_sessions() -> None:
    kit = make_kit(max_sessions=3)
    user = await kit.register()
    tokens = kit.tokens
    pairs = []
    for _ in range(5):
        pairs.append(await tokens.password_grant(email=EMAIL, password=PASSWORD))
        kit.clock.advance(1)

    listed = await _service(kit).list_sessions(actor=user)

    assert [s.id for s in listed] == [_session_id(p) for p in reversed(pairs[2:])]
    for oldest in pairs[:2]:
        with pytest.raises(InvalidTokenError):
            await tokens.refresh_grant(refresh_token=oldest.refresh_token)


async def test_a_session_ends_at_its_absolute_lifetime_however_often_refreshed() -> None:
    kit = make_kit(session_max_age_seconds=5000)
    await kit.register()
    tokens = kit.tokens
    pair = await tokens.password_grant(email=EMAIL, password=PASSWORD)
    # The refresh token alone would slide for an hour from each use (REFRESH_TTL).
    for _ in range(4):
        kit.clock.advance(1000)
        pair = await tokens.refresh_grant(refresh_token=pair.refresh_token)
    session = await kit.session_of(pair.refresh_token)
    assert session.expires_at == session.created_at + timedelta(seconds=5000)
    kit.clock.advance(1000)  # 5000 s after the login
    with pytest.raises(InvalidTokenError):
        await tokens.refresh_grant(refresh_token=pair.refresh_token)


async def test_purge_deletes_ended_sessions_and_keeps_live_ones(kit: Kit) -> None:
    user = await kit.register()
    live = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    ended = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await kit.tokens.revoke(token=ended.refresh_token)

    assert await _service(kit).purge() == 1

    assert [s.id for s in await kit.sessions.list_for_user(user.id)] == [_session_id(live)]
