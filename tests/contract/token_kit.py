"""The token use cases over any backend's repositories, with a clock tests move."""

from __future__ import annotations

from datetime import datetime

import attrs

from tests.unit.conftest import RULES
from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.services import AuthService, TokenService, UserService
from usercore.services.tokens import TokenPair
from usercore.testing import FastTestHasher, ManualClock, Repositories, SequentialIds

PASSWORD = "correct horse battery staple"
EMAIL = "ada@example.com"


@attrs.define
class TokenKit:
    """TokenService and UserService over one pair of repositories."""

    tokens: TokenService
    users: UserService
    clock: ManualClock

    async def log_in(self, email: str = EMAIL) -> TokenPair:
        """Register ``email`` and log in: the first tokens of a new session."""
        await self.users.create_user(email=email, password=PASSWORD)
        return await self.tokens.password_grant(email=email, password=PASSWORD)


def token_kit(
    repositories: Repositories, *, now: datetime, refresh_reuse_interval_seconds: int = 0
) -> TokenKit:
    """A kit over ``repositories`` whose clock starts at ``now``."""
    clock = ManualClock(now)
    ids = SequentialIds(clock)
    hasher = FastTestHasher()
    keys = KeyRing([SigningKey.generate(now=now)])
    auth = AuthService(users=repositories.users, hasher=hasher, clock=clock, throttle=None)
    tokens = TokenService(
        users=repositories.users,
        sessions=repositories.sessions,
        auth=auth,
        signer=JwtAccessTokenSigner(keys, issuer="usercore", audience="usercore"),
        verifier=JwtAccessTokenVerifier(keys, issuer="usercore", audience="usercore"),
        public_keys=keys,
        clock=clock,
        ids=ids,
        access_token_ttl_seconds=900,
        refresh_token_ttl_seconds=3600,
        refresh_reuse_interval_seconds=refresh_reuse_interval_seconds,
    )
    users = UserService(
        users=repositories.users,
        hasher=hasher,
        policy=RULES,
        clock=clock,
        ids=ids,
        throttle=None,
    )
    return TokenKit(tokens, users, clock)
