"""Unit-test fixtures: the use cases over in-memory storage and the fast test hasher."""

from __future__ import annotations

import attrs
import pytest

from usercore.adapters.memory import (
    InMemorySessionRepository,
    InMemoryStore,
    InMemoryUserRepository,
)
from usercore.adapters.zxcvbn import ZxcvbnStrengthEstimator
from usercore.domain.passwords import PasswordPolicy
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.services import AuthService, PasswordRules, UserService
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

    async def register(self, email: str, *, admin: bool = False, name: str = "") -> User:
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        return await self.users.create_user(email=email, password=PASSWORD, name=name, roles=roles)


def make_world(hasher: FastTestHasher | None = None, policy: PasswordRules | None = None) -> World:
    store = InMemoryStore()
    repository = InMemoryUserRepository(store)
    hasher = hasher or FastTestHasher()
    clock = ManualClock()
    policy = policy or RULES
    return World(
        users=UserService(
            users=repository, hasher=hasher, policy=policy, clock=clock, ids=SequentialIds(clock)
        ),
        auth=AuthService(users=repository, hasher=hasher, clock=clock),
        repository=repository,
        sessions=InMemorySessionRepository(store),
        hasher=hasher,
        clock=clock,
        policy=policy,
    )


@pytest.fixture
def world() -> World:
    return make_world()
