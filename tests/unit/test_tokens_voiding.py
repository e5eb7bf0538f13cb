"""TokenService: what ends tokens (logout, password change, deactivation, deletion, forgery)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_tokens_grants import EMAIL, PASSWORD, Kit, make_kit
from usercore.adapters.jwt import JwtAccessTokenSigner, KeyRing, SigningKey
from usercore.domain.errors import InvalidTokenError
from usercore.domain.ids import UserId
from usercore.ports.tokens import AccessClaims
from usercore.services import SessionService, TokenPair

NEW_PASSWORD = "a completely different passphrase"


@pytest.fixture
def kit() -> Kit:
    return make_kit()


async def _login(kit: Kit, password: str = PASSWORD) -> TokenPair:
    return await kit.tokens.password_grant(email=EMAIL, password=password)


async def _assert_void(kit: Kit, pair: TokenPair) -> None:
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=pair.access_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)


async def test_revoke_ends_the_session_but_not_issued_access_tokens(kit: Kit) -> None:
    user = await kit.register()
    pair = await _login(kit)

    await kit.tokens.revoke(token=pair.refresh_token)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)
    # RFC 7009 lets access tokens live until they expire.
    assert (await kit.tokens.authenticate(access_token=pair.access_token)) == user


async def test_revoke_accepts_a_superseded_token_of_the_session(kit: Kit) -> None:
    await kit.register()
    first = await _login(kit)
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)

    await kit.tokens.revoke(token=first.refresh_token)

    assert (await kit.session_of(second.refresh_token)).revoked_at is not None


async def test_revoke_with_a_wrong_secret_changes_nothing(kit: Kit) -> None:
    await kit.register()
    pair = await _login(kit)
    session_id = pair.refresh_token.partition(".")[0]

    await kit.tokens.revoke(token=f"{session_id}.not-the-secret")

    assert (await kit.session_of(pair.refresh_token)).revoked_at is None


@pytest.mark.parametrize(
    "token", ["", "garbage", ".", "0193a000-0000-7000-8000-0000000000aa.x", "é" * 400]
)
async def test_revoke_ignores_unknown_tokens(kit: Kit, token: str) -> None:
    await kit.register()
    pair = await _login(kit)

    await kit.tokens.revoke(token=token)
    await kit.tokens.revoke(token=pair.access_token)  # not a refresh token: ignored too

    assert (await kit.session_of(pair.refresh_token)).revoked_at is None


async def test_revoking_twice_is_harmless(kit: Kit) -> None:
    await kit.register()
    pair = await _login(kit)
    await kit.tokens.revoke(token=pair.refresh_token)
    kit.clock.advance(5)

    await kit.tokens.revoke(token=pair.refresh_token)

    assert (await kit.session_of(pair.refresh_token)).revoked_at == kit.clock.now() - timedelta(
        seconds=5
    )


async def test_a_password_change_voids_earlier_tokens_at_millisecond_precision(kit: Kit) -> None:
    user = await kit.register()
    kit.clock.set(datetime(2026, 3, 1, 13, 0, 0, 100_000, tzinfo=UTC))
    before = await _login(kit)
    kit.clock.set(datetime(2026, 3, 1, 13, 0, 0, 200_000, tzinfo=UTC))
    await kit.users.change_password(
        actor=user, current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    kit.clock.set(datetime(2026, 3, 1, 13, 0, 0, 300_000, tzinfo=UTC))

    after = await _login(kit, NEW_PASSWORD)

    iat_before = jwt.decode(before.access_token, options={"verify_signature": False})["iat"]
    iat_after = jwt.decode(after.access_token, options={"verify_signature": False})["iat"]
    assert int(iat_before) == int(iat_after)  # the same second, told apart by milliseconds
    await _assert_void(kit, before)
    assert (await kit.tokens.authenticate(access_token=after.access_token)).id == user.id
    assert (await kit.tokens.refresh_grant(refresh_token=after.refresh_token)).expires_in == 900


async def test_a_token_issued_in_the_same_millisecond_as_the_change_stays_valid(
    kit: Kit,
) -> None:
    user = await kit.register()
    await kit.users.change_password(
        actor=user, current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    pair = await _login(kit, NEW_PASSWORD)

    assert (await kit.tokens.authenticate(access_token=pair.access_token)).id == user.id


async def test_deactivation_voids_tokens_for_good_even_after_reactivation(kit: Kit) -> None:
    admin = await kit.register("root@example.com", admin=True)
    user = await kit.register()
    pair = await _login(kit)
    kit.clock.advance(0.001)
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=False)

    await _assert_void(kit, pair)
    kit.clock.advance(10)
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=True)

    await _assert_void(kit, pair)
    again = await _login(kit)
    assert (await kit.tokens.authenticate(access_token=again.access_token)).id == user.id


async def test_deactivated_users_tokens_fail_even_without_a_refresh_attempt(kit: Kit) -> None:
    admin = await kit.register("root@example.com", admin=True)
    user = await kit.register()
    pair = await _login(kit)
    kit.clock.advance(1)
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=False)
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=True)

    await _assert_void(kit, pair)


async def test_log_out_everywhere_voids_every_session(kit: Kit) -> None:
    user = await kit.register()
    pairs = [await _login(kit) for _ in range(3)]
    kit.clock.advance(1)

    await SessionService(
        users=kit.user_repository, sessions=kit.sessions, clock=kit.clock
    ).revoke_all(actor=user)

    for pair in pairs:
        await _assert_void(kit, pair)


async def test_deleting_the_user_voids_their_tokens(kit: Kit) -> None:
    user = await kit.register()
    pair = await _login(kit)

    await kit.users.delete_self(actor=user, current_password=PASSWORD)

    await _assert_void(kit, pair)
    await kit.tokens.revoke(token=pair.refresh_token)  # no error for a vanished session


async def test_refuses_a_validly_signed_token_for_an_unknown_user(kit: Kit) -> None:
    signer = JwtAccessTokenSigner(kit.keys, issuer="usercore", audience="usercore")
    now = kit.clock.now()
    token = signer.sign(
        AccessClaims(
            subject=UserId("0193a000-0000-7000-8000-0000000000aa"),
            roles=["admin"],
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
            token_id="x",
            session_id="s",
            epoch=1,
        )
    )
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=token)


async def test_refuses_a_token_for_another_audience_or_issuer(kit: Kit) -> None:
    user = await kit.register()
    now = kit.clock.now()
    claims = AccessClaims(
        subject=user.id,
        roles=["user"],
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
        token_id="x",
        session_id="s",
        epoch=1,
    )
    for issuer, audience in [("usercore", "billing"), ("someone-else", "usercore")]:
        token = JwtAccessTokenSigner(kit.keys, issuer=issuer, audience=audience).sign(claims)
        with pytest.raises(InvalidTokenError):
            await kit.tokens.authenticate(access_token=token)


async def test_refuses_a_token_signed_by_a_key_that_is_not_ours(kit: Kit) -> None:
    user = await kit.register()
    now = kit.clock.now()
    stranger = JwtAccessTokenSigner(
        KeyRing([SigningKey.generate(now=now)]), issuer="usercore", audience="usercore"
    )
    token = stranger.sign(
        AccessClaims(
            subject=user.id,
            roles=["admin"],
            issued_at=now,
            expires_at=now + timedelta(minutes=5),
            token_id="x",
            session_id="s",
            epoch=1,
        )
    )
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=token)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=st.text(max_size=400) | st.from_regex(r"[0-9a-f-]{36}\.[A-Za-z0-9_\-]{0,60}"))
async def test_any_text_is_refused_by_refresh_and_ignored_by_revoke(kit: Kit, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=token)
    await kit.tokens.revoke(token=token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=token)
