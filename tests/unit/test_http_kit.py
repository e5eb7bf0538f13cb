"""Helpers of the in-process HTTP tests: the app over memory storage and the fast hasher.

Tokens are the real ones (EdDSA JWTs, keys in a temporary directory); users
are made through the library and handed tokens with ``TokenService.issue``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import attrs
from dependency_injector import providers
from litestar.testing import AsyncTestClient

from usercore.config import Settings
from usercore.container import Container, build_container, resolve
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.entrypoints.http import create_app
from usercore.services import TokenService, UserService
from usercore.testing import FastTestHasher

PASSWORD = "correct horse battery staple"


@attrs.define
class Api:
    """A client of the app, its container and its token service."""

    client: AsyncTestClient  # type: ignore[type-arg]
    container: Container
    tokens: TokenService

    async def user(
        self, email: str, *, admin: bool = False, name: str = ""
    ) -> tuple[User, dict[str, str]]:
        """A stored user and the Authorization header of a token for them."""
        users: UserService = await resolve(self.container.user_service())
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        user = await users.create_user(email=email, password=PASSWORD, name=name, roles=roles)
        pair = await self.tokens.issue(user)
        return user, {"Authorization": f"Bearer {pair.access_token}"}


def memory_container(data_dir: Path) -> Container:
    """A container over memory storage with the fast hasher; keys go to ``data_dir``."""
    settings = Settings.load({"database_url": "memory://", "data_dir": data_dir}, environ={})
    container = build_container(settings)
    container.hasher.override(providers.Object(FastTestHasher()))
    return container


@asynccontextmanager
async def running_api(container: Container) -> AsyncIterator[Api]:
    """The app on ``container``, started."""
    try:
        async with AsyncTestClient(create_app(container)) as client:
            tokens: TokenService = await resolve(container.token_service())
            yield Api(client=client, container=container, tokens=tokens)
    finally:
        container.hasher.reset_override()
