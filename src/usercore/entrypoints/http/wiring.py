"""What the handlers need from the container, resolved once and cached for every request."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Protocol

from usercore.container import Container, resolve, start_resources, stop_resources
from usercore.domain.errors import UserCoreError
from usercore.domain.user import User
from usercore.entrypoints.http.metrics import HttpMetrics
from usercore.ports.errors import StorageUnavailableError
from usercore.ports.tokens import AccessClaims
from usercore.ports.users import UserRepository
from usercore.services.dispatch import Dispatcher
from usercore.services.security import SECURITY_LOGGER
from usercore.services.sessions import SessionService
from usercore.services.throttle import LoginThrottle
from usercore.services.users import UserService

log = logging.getLogger("usercore.http")

#: How often each server process deletes revoked and expired sessions. The
#: purge is idempotent and safe to run concurrently, and the first run waits a
#: random part of the interval, so a deployment's workers spread over the hour.
PURGE_INTERVAL_SECONDS = 3600.0


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

    async def password_grant(
        self, *, email: str, password: str, user_agent: str = ""
    ) -> IssuedTokens:
        """Log in; raises InvalidCredentialsError, ThrottledError or ValidationError."""
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

    async def authenticate_claims(self, *, access_token: str) -> tuple[User, AccessClaims]:
        """The stored user and the claims of an access token; raises InvalidTokenError."""
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

    def __init__(
        self,
        container: Container,
        metrics: HttpMetrics,
        *,
        purge_interval_seconds: float = PURGE_INTERVAL_SECONDS,
    ) -> None:
        self.container = container
        self.metrics = metrics
        self._purge_interval = purge_interval_seconds
        self._purging: asyncio.Task[None] | None = None
        self._delivering: asyncio.Task[None] | None = None
        self._security_counter = metrics.count_security_events()
        self._users: UserService | None = None
        self._tokens: TokenIssuer | None = None
        self._sessions: SessionService | None = None
        self._repository: UserRepository | None = None

    async def start(self) -> None:
        """Start the container's resources; storage that is down is retried on use."""
        security_log = logging.getLogger(SECURITY_LOGGER)
        if security_log.level == logging.NOTSET:
            # An audit trail, and the source of the security metrics: never muted
            # by a host application's level.
            security_log.setLevel(logging.INFO)
        security_log.addHandler(self._security_counter)
        try:
            await start_resources(self.container)
            await self.users()
            await self.tokens()
            # A bad webhook setting stops the server here, not later in a task.
            await resolve(self.container.dispatcher())
        except StorageUnavailableError as exc:
            log.warning("storage unavailable at start-up; retrying on each request: %s", exc)
        self._purging = asyncio.create_task(self._purge_periodically())
        self._delivering = asyncio.create_task(self._deliver_events())

    async def stop(self) -> None:
        """Stop event delivery and the periodic purge, then the container's resources."""
        logging.getLogger(SECURITY_LOGGER).removeHandler(self._security_counter)
        for task in (self._delivering, self._purging):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await stop_resources(self.container)

    async def _deliver_events(self) -> None:
        # Every process delivers; the per-subscriber leases make one of them
        # deliver each event in the normal case (see services/dispatch.py).
        while True:
            try:
                dispatcher: Dispatcher = await resolve(self.container.dispatcher())
            except UserCoreError as exc:  # storage down at start-up: try again
                log.warning("event delivery not started: %s", exc)
                await asyncio.sleep(5)
                continue
            dispatcher.observer = self.metrics
            await dispatcher.run()

    async def _purge_periodically(self) -> None:
        await asyncio.sleep(random.uniform(0, self._purge_interval))  # noqa: S311 - not a secret
        while True:
            try:
                purged = await (await self.sessions()).purge()
                throttle: LoginThrottle = await resolve(self.container.login_throttle())
                forgotten = await throttle.purge()
                dispatcher: Dispatcher = await resolve(self.container.dispatcher())
                pruned = await dispatcher.prune()
            except UserCoreError as exc:  # storage down or not migrated: try next time
                log.warning("purge skipped: %s", exc)
            else:
                log.info(
                    "purged ended sessions, stale throttle records and delivered events",
                    extra={"purged": purged, "throttle_records": forgotten, "events": pruned},
                )
            await asyncio.sleep(self._purge_interval)

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

    async def sessions(self) -> SessionService:
        """The session use cases."""
        if self._sessions is None:
            self._sessions = await resolve(self.container.session_service())
        return self._sessions

    async def repository(self) -> UserRepository:
        """The user repository, for the readiness probe."""
        if self._repository is None:
            repository: UserRepository = await resolve(self.container.user_repository())
            self._repository = repository
        return self._repository
