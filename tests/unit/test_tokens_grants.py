"""TokenService grants: logging in, rotating refresh tokens, reuse detection, expiry."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import attrs
import jwt
import pytest

from tests.unit.conftest import RULES
from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.adapters.memory import (
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryUserRepository,
)
from usercore.domain.errors import InvalidCredentialsError, InvalidTokenError, ValidationError
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.services import AuthService, TokenService, UserService
from usercore.testing import FastTestHasher, ManualClock, SequentialIds

PASSWORD = "correct horse battery staple"
EMAIL = "ada@example.com"
START = datetime(2026, 3, 1, 12, 0, 0, 100_000, tzinfo=UTC)
ACCESS_TTL, REFRESH_TTL = 900, 3600


@attrs.define
class Kit:
    """The token use cases over one in-memory store, with a clock tests can move."""

    tokens: TokenService
    users: UserService
    user_repository: InMemoryUserRepository
    sessions: InMemorySessionRepository
    clock: ManualClock
    keys: KeyRing

    async def register(self, email: str = EMAIL, *, admin: bool = False) -> User:
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        return await self.users.create_user(email=email, password=PASSWORD, roles=roles)

    async def session_of(self, refresh_token: str) -> Session:
        session = await self.sessions.get(refresh_token.partition(".")[0])
        assert session is not None
        return session


def make_kit(
    sessions: type[InMemorySessionRepository] = InMemorySessionRepository,
    *,
    max_sessions: int = 100,
    session_max_age_seconds: int = 90 * 24 * 3600,
    refresh_reuse_interval_seconds: int = 0,
) -> Kit:
    """A kit whose session repository is of type ``sessions``, with these session limits."""
    store = InMemoryStore()
    user_repository = InMemoryUserRepository(store)
    session_repository = sessions(store)
    clock = ManualClock(START)
    ids = SequentialIds(clock)
    hasher = FastTestHasher()
    keys = KeyRing([SigningKey.generate(now=START)])
    auth = AuthService(users=user_repository, hasher=hasher, clock=clock, throttle=None)
    tokens = TokenService(
        users=user_repository,
        sessions=session_repository,
        auth=auth,
        signer=JwtAccessTokenSigner(keys, issuer="usercore", audience="usercore"),
        verifier=JwtAccessTokenVerifier(keys, issuer="usercore", audience="usercore"),
        public_keys=keys,
        clock=clock,
        ids=ids,
        access_token_ttl_seconds=ACCESS_TTL,
        refresh_token_ttl_seconds=REFRESH_TTL,
        max_sessions=max_sessions,
        session_max_age_seconds=session_max_age_seconds,
        refresh_reuse_interval_seconds=refresh_reuse_interval_seconds,
    )
    users = UserService(
        users=user_repository,
        hasher=hasher,
        policy=RULES,
        clock=clock,
        ids=ids,
        throttle=None,
    )
    return Kit(tokens, users, user_repository, session_repository, clock, keys)


@pytest.fixture
def kit() -> Kit:
    return make_kit()


async def test_password_grant_issues_a_bearer_pair(kit: Kit) -> None:
    user = await kit.register()

    pair = await kit.tokens.password_grant(email="Ada@Example.COM", password=PASSWORD)

    assert (pair.token_type, pair.expires_in) == ("Bearer", ACCESS_TTL)
    assert (await kit.tokens.authenticate(access_token=pair.access_token)) == user
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert claims["sub"] == user.id.value
    assert claims["exp"] - claims["iat"] == pytest.approx(ACCESS_TTL, abs=1)
    assert kit.tokens.jwks() == kit.keys.jwks()


async def test_refresh_token_is_opaque_random_and_stored_only_as_a_hash(kit: Kit) -> None:
    await kit.register()

    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    session_id, _, secret = pair.refresh_token.partition(".")
    assert len(secret) >= 43  # 32 bytes of base64url: 256 bits
    session = await kit.session_of(pair.refresh_token)
    assert session.id == session_id
    assert session.token_hash == hashlib.sha256(pair.refresh_token.encode()).hexdigest()
    assert secret not in repr(session)
    assert session.expires_at == START + timedelta(seconds=REFRESH_TTL)


async def test_each_login_starts_its_own_session(kit: Kit) -> None:
    user = await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    second = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    assert first.refresh_token != second.refresh_token
    assert len(await kit.sessions.list_for_user(user.id)) == 2


@pytest.mark.parametrize(
    ("email", "password"),
    [(EMAIL, "wrong horse battery staple"), ("nobody@example.com", PASSWORD), ("@", PASSWORD)],
)
async def test_password_grant_refuses_bad_credentials_without_a_session(
    kit: Kit, email: str, password: str
) -> None:
    user = await kit.register()
    with pytest.raises(InvalidCredentialsError):
        await kit.tokens.password_grant(email=email, password=password)
    assert await kit.sessions.list_for_user(user.id) == []


async def test_password_grant_refuses_an_inactive_user(kit: Kit) -> None:
    admin = await kit.register("root@example.com", admin=True)
    user = await kit.register()
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=False)
    with pytest.raises(InvalidCredentialsError):
        await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)


async def test_password_grant_refuses_an_over_long_password(kit: Kit) -> None:
    await kit.register()
    with pytest.raises(ValidationError):
        await kit.tokens.password_grant(email=EMAIL, password="x" * 1025)


async def test_refresh_rotates_the_refresh_token(kit: Kit) -> None:
    user = await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    kit.clock.advance(60)

    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    third = await kit.tokens.refresh_grant(refresh_token=second.refresh_token)

    assert len({first.refresh_token, second.refresh_token, third.refresh_token}) == 3
    assert (await kit.tokens.authenticate(access_token=third.access_token)) == user
    session = await kit.session_of(third.refresh_token)
    assert (session.generation, session.revoked_at) == (2, None)


async def test_presenting_a_used_refresh_token_revokes_the_whole_session(kit: Kit) -> None:
    await kit.register()
    first = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    second = await kit.tokens.refresh_grant(refresh_token=first.refresh_token)
    third = await kit.tokens.refresh_grant(refresh_token=second.refresh_token)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=first.refresh_token)

    assert (await kit.session_of(third.refresh_token)).revoked_at == START
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=third.refresh_token)


async def test_reuse_in_one_session_leaves_other_sessions_alone(kit: Kit) -> None:
    await kit.register()
    stolen = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    other = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await kit.tokens.refresh_grant(refresh_token=stolen.refresh_token)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=stolen.refresh_token)

    assert (await kit.tokens.refresh_grant(refresh_token=other.refresh_token)).expires_in == 900


async def test_a_wrong_secret_for_a_real_session_is_refused_without_revoking_it(
    kit: Kit,
) -> None:
    await kit.register()
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    session_id = pair.refresh_token.partition(".")[0]

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=f"{session_id}.guessed-secret")

    assert (await kit.session_of(pair.refresh_token)).revoked_at is None


@pytest.mark.parametrize(
    "token",
    ["", "garbage", ".", "0193a000-0000-7000-8000-0000000000aa.secret", "x" * 300, "a.b.c"],
)
async def test_refresh_refuses_tokens_that_are_not_ours(kit: Kit, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=token)


async def test_refresh_tokens_expire_after_their_ttl_and_slide_with_use(kit: Kit) -> None:
    await kit.register()
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    kit.clock.advance(REFRESH_TTL - 1)
    pair = await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)
    kit.clock.advance(REFRESH_TTL - 1)  # past the first token's expiry, within the new one's
    pair = await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)

    kit.clock.advance(REFRESH_TTL)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)


async def test_access_tokens_expire_after_their_ttl(kit: Kit) -> None:
    await kit.register()
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    kit.clock.advance(ACCESS_TTL - 1)
    await kit.tokens.authenticate(access_token=pair.access_token)

    kit.clock.advance(1)

    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=pair.access_token)


class YieldingSessions(InMemorySessionRepository):
    """Gives other tasks a turn before each call, as a networked database would."""

    rotations = 0

    async def get(self, session_id: str) -> Session | None:
        await asyncio.sleep(0)
        return await super().get(session_id)

    async def rotate(self, current: Session, rotated: Session) -> bool:
        self.rotations += 1
        await asyncio.sleep(0)
        return await super().rotate(current, rotated)


async def test_of_concurrent_refreshes_with_one_token_exactly_one_wins() -> None:
    kit = make_kit(YieldingSessions)
    await kit.register()
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)

    results = await asyncio.gather(
        *(kit.tokens.refresh_grant(refresh_token=pair.refresh_token) for _ in range(20)),
        return_exceptions=True,
    )

    assert isinstance(kit.sessions, YieldingSessions)
    assert kit.sessions.rotations == 20  # every task reached the compare-and-set
    winners = [result for result in results if not isinstance(result, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, InvalidTokenError) for r in results if r not in winners)
    # The losers presented a token that was no longer current: reuse, so the
    # whole session ends (documented in usercore.services.tokens).
    assert (await kit.session_of(pair.refresh_token)).revoked_at is not None


async def test_authenticate_uses_the_stored_user_not_the_token_roles(kit: Kit) -> None:
    admin = await kit.register("root@example.com", admin=True)
    pair = await kit.tokens.password_grant(email="root@example.com", password=PASSWORD)
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    assert claims["roles"] == ["admin", "user"]
    await kit.users.admin_update(actor=admin, user_id=admin.id, roles=frozenset({Role.USER}))

    actor = await kit.tokens.authenticate(access_token=pair.access_token)

    assert actor.roles == frozenset({Role.USER})
