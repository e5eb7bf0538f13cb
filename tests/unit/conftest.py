"""Unit-test fixtures: the use cases over in-memory storage and the fast test hasher."""

from __future__ import annotations

import secrets

import attrs
import pytest

from usercore.adapters.memory import (
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryThrottleStore,
    InMemoryUserRepository,
)
from usercore.adapters.zxcvbn import ZxcvbnStrengthEstimator
from usercore.domain.passwords import PasswordPolicy
from usercore.domain.roles import Role
from usercore.domain.throttle import ThrottlePolicy
from usercore.domain.user import User
from usercore.ports.throttle import ThrottleStore
from usercore.services import AuthService, LoginThrottle, PasswordRules, UserService
from usercore.testing import FastTestHasher, ManualClock, SequentialIds

PASSWORD = "correct horse battery staple"
#: The production rules: the default policy, judged by zxcvbn.
RULES = PasswordRules(policy=PasswordPolicy(), estimator=ZxcvbnStrengthEstimator())


@attrs.define
class World:
    """Services over one in-memory store, with the doubles exposed for assertions."""

    users: UserService
    auth: AuthService
    repository: InMemoryUserRepository
    sessions: InMemorySessionRepository
    hasher: FastTestHasher
    clock: ManualClock
    policy: PasswordRules
    throttle: LoginThrottle

    async def register(self, email: str, *, admin: bool = False, name: str = "") -> User:
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        return await self.users.create_user(email=email, password=PASSWORD, name=name, roles=roles)


def make_world(
    hasher: FastTestHasher | None = None,
    policy: PasswordRules | None = None,
    throttle_policy: ThrottlePolicy | None = None,
    throttle_store: ThrottleStore | None = None,
) -> World:
    store = InMemoryStore()
    repository = InMemoryUserRepository(store)
    hasher = hasher or FastTestHasher()
    clock = ManualClock()
    policy = policy or RULES
    throttle = LoginThrottle(
        store=throttle_store or InMemoryThrottleStore(),
        policy=throttle_policy or ThrottlePolicy(),
        secret=secrets.token_bytes(32),
        clock=clock,
    )
    return World(
        users=UserService(
            users=repository,
            hasher=hasher,
            policy=policy,
            clock=clock,
            ids=SequentialIds(clock),
            throttle=throttle,
        ),
        auth=AuthService(users=repository, hasher=hasher, clock=clock, throttle=throttle),
        repository=repository,
        sessions=InMemorySessionRepository(store),
        hasher=hasher,
        clock=clock,
        policy=policy,
        throttle=throttle,
    )


@pytest.fixture
def world() -> World:
    return make_world()
