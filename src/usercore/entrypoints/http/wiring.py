"""What the handlers need from the container, resolved once and cached for every request."""

from __future__ import annotations

import logging
from typing import Protocol

from usercore.container import Container, resolve, start_resources, stop_resources
from usercore.domain.user import User
from usercore.entrypoints.http.metrics import HttpMetrics
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.users import UserRepository
from usercore.services.users import UserService

log = logging.getLogger("usercore.http")


class IssuedTokens(Protocol):
    """What a token grant returns (``usercore.services.tokens.TokenPair``)."""

    @property
    def access_token(self) -> str: ...  # noqa: D102 - mirrors the token service
    @property
    def refresh_token(self) -> str: ...  # noqa: D102
    @property
    def expires_in(self) -> int: ...  # noqa: D102
    @property
    def token_type(self) -> str: ...  # noqa: D102


class TokenIssuer(Protocol):
    """The token use cases the HTTP edge calls (``usercore.services.tokens.TokenService``)."""

    async def password_grant(self, *, email: str, password: str) -> IssuedTokens:
        """Log in; raises InvalidCredentialsError or ValidationError."""
        ...

    async def refresh_grant(self, *, refresh_token: str) -> IssuedTokens:
        """Rotate a refresh token; raises InvalidTokenError."""
        ...

    async def revoke(self, *, token: str) -> None:
        """End the session of a refresh token; never raises for unknown tokens."""
        ...

    async def authenticate(self, *, access_token: str) -> User:
        """The stored user an access token acts for; raises InvalidTokenError."""
        ...

    def jwks(self) -> dict[str, object]:
        """The public signing keys, as a JWK set."""
        ...


class AppServices:
    """Services of one container, resolved on first use and then cached, and the metrics.

    Resolution is lazy so that a storage backend that is down at start-up
    only makes requests answer 503 until it is back, instead of stopping
    the server.
    """

    def __init__(self, container: Container, metrics: HttpMetrics) -> None:
        self.container = container
        self.metrics = metrics
        self._users: UserService | None = None
        self._tokens: TokenIssuer | None = None
        self._repository: UserRepository | None = None

    async def start(self) -> None:
        """Start the container's resources; storage that is down is retried on use."""
        try:
            await start_resources(self.container)
            await self.users()
            await self.tokens()
        except StorageUnavailableError as exc:
            log.warning("storage unavailable at start-up; retrying on each request: %s", exc)

    async def stop(self) -> None:
        """Stop the container's resources."""
        await stop_resources(self.container)

    async def users(self) -> UserService:
        """The account use cases."""
        if self._users is None:
            self._users = await resolve(self.container.user_service())
        return self._users

    async def tokens(self) -> TokenIssuer:
        """The token use cases."""
        if self._tokens is None:
            provider = self.container.token_service
            self._tokens = await resolve(provider())
        return self._tokens

    async def repository(self) -> UserRepository:
        """The user repository, for the readiness probe."""
        if self._repository is None:
            repository: UserRepository = await resolve(self.container.user_repository())
            self._repository = repository
        return self._repository
