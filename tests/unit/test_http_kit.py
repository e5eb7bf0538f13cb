"""Helpers of the in-process HTTP tests: the app over memory storage with a stand-in token service.

The stand-in maps opaque tokens to user ids, so these tests exercise the HTTP
edge alone; the real tokens are exercised end to end in tests/e2e.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from usercore.config import Settings
from usercore.container import Container, build_container, resolve
from usercore.domain.errors import InvalidTokenError
from usercore.domain.ids import UserId
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.entrypoints.http import create_app
from usercore.services import AuthService, UserService
from usercore.testing import FastTestHasher

PASSWORD = "correct horse battery staple"


@attrs.frozen
class FakePair:
    access_token: str
    refresh_token: str
    expires_in: int = 900
    token_type: str = "Bearer"


class FakeTokens:
    """Opaque access tokens that name a user id; authenticate() loads the stored user."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self.access: dict[str, UserId] = {}

    async def _users(self) -> UserService:
        return await resolve(self._container.user_service())

    async def password_grant(self, *, email: str, password: str) -> FakePair:
        auth: AuthService = await resolve(self._container.auth_service())
        user = await auth.authenticate(email=email, password=password)
        return FakePair(access_token=self.issue(user), refresh_token=secrets.token_hex(16))

    async def refresh_grant(self, *, refresh_token: str) -> FakePair:
        raise InvalidTokenError

    async def revoke(self, *, token: str) -> None:
        return None

    async def authenticate(self, *, access_token: str) -> User:
        user_id = self.access.get(access_token)
        user = None if user_id is None else await (await self._users()).find(user_id)
        if user is None or not user.is_active:
            raise InvalidTokenError
        return user

    def jwks(self) -> dict[str, object]:
        return {"keys": []}

    def issue(self, user: User) -> str:
        token = secrets.token_urlsafe(16)
        self.access[token] = user.id
        return token


@attrs.define
class Api:
    """A client of the app, its container and the stand-in token service."""

    client: AsyncTestClient  # type: ignore[type-arg]
    container: Container
    tokens: FakeTokens

    async def user(
        self, email: str, *, admin: bool = False, name: str = ""
    ) -> tuple[User, dict[str, str]]:
        """A stored user and the Authorization header of a token for them."""
        users: UserService = await resolve(self.container.user_service())
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        user = await users.create_user(email=email, password=PASSWORD, name=name, roles=roles)
        return user, {"Authorization": f"Bearer {self.tokens.issue(user)}"}


def memory_container(data_dir: Path) -> Container:
    """A container over memory storage with the fast hasher; keys go to ``data_dir``."""
    settings = Settings.load({"database_url": "memory://", "data_dir": data_dir}, environ={})
    container = build_container(settings)
    container.hasher.override(providers.Object(FastTestHasher()))
    return container


@asynccontextmanager
async def running_api(container: Container) -> AsyncIterator[Api]:
    """The app on ``container`` with the stand-in token service, started."""
    tokens = FakeTokens(container)
    container.token_service.override(providers.Object(tokens))
    try:
        async with AsyncTestClient(create_app(container)) as client:
            yield Api(client=client, container=container, tokens=tokens)
    finally:
        container.token_service.reset_override()
        container.hasher.reset_override()
