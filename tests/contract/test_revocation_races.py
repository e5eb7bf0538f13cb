"""Revocation races, on every backend: a grant in flight never outlives what revokes it.

A password grant reads the user, then spends most of its time hashing; a
refresh grant reads the session and the user, then rotates. If the password
changes (or the user is deactivated, or logs out everywhere) in between, the
tokens the grant then hands out must be refused at once. The grants are held
open at exactly those points by the test, and the clock moves forward while
they wait, so a check that compared issue times with the change's time would
let them through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from tests.contract.backends import open_backend, postgres_url, repositories, sqlite_template
from tests.unit.conftest import RULES
from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.domain.errors import InvalidCredentialsError, InvalidTokenError
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.ports.sessions import SessionRepository
from usercore.services import AuthService, SessionService, TokenService, UserService
from usercore.services.tokens import TokenPair
from usercore.testing import FastTestHasher, ManualClock, Repositories, SequentialIds

__all__ = ["open_backend", "postgres_url", "repositories", "sqlite_template"]  # fixtures

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a wholly different passphrase"
EMAIL = "ada@example.com"
START = datetime(2100, 3, 1, 12, 0, 0, tzinfo=UTC)


class Gate:
    """Holds a step open until the test lets it go, and says when it is held."""

    def __init__(self) -> None:
        self.armed = False
        self.reached = asyncio.Event()
        self.released = asyncio.Event()

    async def pass_through(self) -> None:
        if not self.armed:
            return
        self.armed = False
        self.reached.set()
        await self.released.wait()


class GatedHasher(FastTestHasher):
    """Verifies, then waits at the gate: the user was read, the password checked."""

    def __init__(self, gate: Gate) -> None:
        super().__init__()
        self._gate = gate

    async def verify(self, password_hash: PasswordHash, password: str) -> bool:
        result = await super().verify(password_hash, password)
        await self._gate.pass_through()
        return result


class GatedSessions:
    """Waits at the gate before a rotation: the session and its user were read."""

    def __init__(self, inner: SessionRepository, gate: Gate) -> None:
        self._inner = inner
        self._gate = gate

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)

    async def rotate(self, current: Session, rotated: Session) -> bool:
        await self._gate.pass_through()
        return await self._inner.rotate(current, rotated)


class Kit:
    """The token and account use cases over one backend, with gates on the slow steps."""

    def __init__(self, repositories: Repositories) -> None:
        self.clock = ManualClock(START)
        ids = SequentialIds(self.clock)
        self.gate = Gate()
        hasher = GatedHasher(self.gate)
        keys = KeyRing([SigningKey.generate(now=START)])
        sessions: SessionRepository = GatedSessions(repositories.sessions, self.gate)  # type: ignore[assignment]
        auth = AuthService(users=repositories.users, hasher=hasher, clock=self.clock, throttle=None)
        self.tokens = TokenService(
            users=repositories.users,
            sessions=sessions,
            auth=auth,
            signer=JwtAccessTokenSigner(keys, issuer="usercore", audience="usercore"),
            verifier=JwtAccessTokenVerifier(keys, issuer="usercore", audience="usercore"),
            public_keys=keys,
            clock=self.clock,
            ids=ids,
            access_token_ttl_seconds=900,
            refresh_token_ttl_seconds=3600,
        )
        self.users = UserService(
            users=repositories.users,
            hasher=FastTestHasher(),
            policy=RULES,
            clock=self.clock,
            ids=ids,
            throttle=None,
        )
        self.sessions = SessionService(
            users=repositories.users, sessions=repositories.sessions, clock=self.clock
        )
        self.repository = repositories.users

    async def stored(self, user: User) -> User:
        found = await self.repository.get(user.id)
        assert found is not None
        return found


async def _change_password(kit: Kit, user: User, admin: User) -> None:
    await kit.users.change_password(
        actor=await kit.stored(user), current_password=PASSWORD, new_password=NEW_PASSWORD
    )


async def _deactivate_and_reactivate(kit: Kit, user: User, admin: User) -> None:
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=False)
    await kit.users.admin_update(actor=admin, user_id=user.id, is_active=True)


async def _log_out_everywhere(kit: Kit, user: User, admin: User) -> None:
    await kit.sessions.revoke_all(actor=await kit.stored(user))


Revocation = Callable[[Kit, User, User], Awaitable[None]]
REVOCATIONS = {
    "password change": _change_password,
    "deactivation": _deactivate_and_reactivate,
    "log out everywhere": _log_out_everywhere,
}


@pytest.fixture
async def kit(repositories: Repositories) -> Kit:
    return Kit(repositories)


async def _accounts(kit: Kit) -> tuple[User, User]:
    admin = await kit.users.create_user(
        email="root@example.com", password=PASSWORD, roles=frozenset({Role.USER, Role.ADMIN})
    )
    return await kit.users.create_user(email=EMAIL, password=PASSWORD), admin


async def _assert_refused(kit: Kit, grant: asyncio.Task[TokenPair]) -> None:
    try:
        pair = await grant
    except (InvalidCredentialsError, InvalidTokenError):
        return  # refusing the grant itself is as good
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=pair.access_token)
    with pytest.raises(InvalidTokenError):
        await kit.tokens.refresh_grant(refresh_token=pair.refresh_token)


async def _race(kit: Kit, grant: Awaitable[TokenPair], revoke: Awaitable[None]) -> None:
    kit.gate.armed = True
    in_flight = asyncio.ensure_future(grant)
    await asyncio.wait_for(kit.gate.reached.wait(), timeout=10)
    kit.clock.advance(5)
    await revoke
    kit.clock.advance(5)  # the grant finishes later than the change, by any clock
    kit.gate.released.set()
    await _assert_refused(kit, in_flight)


@pytest.mark.parametrize("revocation", REVOCATIONS.values(), ids=REVOCATIONS.keys())
async def test_a_password_grant_in_flight_yields_no_working_tokens(
    kit: Kit, revocation: Revocation
) -> None:
    user, admin = await _accounts(kit)
    grant = kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    await _race(kit, grant, revocation(kit, user, admin))


@pytest.mark.parametrize("revocation", REVOCATIONS.values(), ids=REVOCATIONS.keys())
async def test_a_refresh_grant_in_flight_yields_no_working_tokens(
    kit: Kit, revocation: Revocation
) -> None:
    user, admin = await _accounts(kit)
    pair = await kit.tokens.password_grant(email=EMAIL, password=PASSWORD)
    grant = kit.tokens.refresh_grant(refresh_token=pair.refresh_token)
    await _race(kit, grant, revocation(kit, user, admin))
    # The change itself voided the tokens issued before it, too.
    with pytest.raises(InvalidTokenError):
        await kit.tokens.authenticate(access_token=pair.access_token)


async def test_without_a_revocation_the_held_grants_work(kit: Kit) -> None:
    # The gates alone change nothing: what refuses above is the revocation.
    await _accounts(kit)
    kit.gate.armed = True
    in_flight = asyncio.ensure_future(kit.tokens.password_grant(email=EMAIL, password=PASSWORD))
    await asyncio.wait_for(kit.gate.reached.wait(), timeout=10)
    kit.clock.advance(5)
    kit.gate.released.set()
    pair = await in_flight
    assert (await kit.tokens.authenticate(access_token=pair.access_token)).email.value == EMAIL
