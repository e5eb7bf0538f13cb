"""The front door for library users: working services from a database URL."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import TypeVar

import attrs

from usercore.config import Settings
from usercore.container.core import Container, build_container
from usercore.container.events import subscribe
from usercore.services.auth import AuthService
from usercore.services.dispatch import Dispatcher
from usercore.services.hooks import EventKey, Hook
from usercore.services.sessions import SessionService
from usercore.services.tokens import TokenService
from usercore.services.users import UserService

T = TypeVar("T")


@attrs.frozen
class UserCore:
    """The usercore services, wired to one storage backend.

    Attributes:
        users: Registration, reading, listing, updating and deleting users.
        auth: Checking an email and password.
        sessions: Login sessions: list them, end one or all, purge ended ones.
        container: The dependency-injector container behind them, for
            overriding providers in tests.
    """

    users: UserService
    auth: AuthService
    sessions: SessionService
    container: Container

    async def dispatcher(self) -> Dispatcher:
        """The event dispatcher: ``run_once()``, ``failed()``, ``retry()``, ``prune()``."""
        return await resolve(self.container.dispatcher())

    async def tokens(self) -> TokenService:
        """The token use cases (logins, refresh, access-token checks).

        A method rather than an attribute: the signing keys are read (or, on
        first use, created) only when tokens are first needed.
        """
        return await resolve(self.container.token_service())


@asynccontextmanager
async def connect(
    database_url: str | None = None,
    *,
    on: Mapping[EventKey, Hook | Iterable[Hook]] | None = None,
    deliver: bool | None = None,
    **settings: object,
) -> AsyncIterator[UserCore]:
    """Open usercore on ``database_url``; storage is closed on exit.

    Args:
        database_url: ``memory://`` (no persistence), or another backend's URL;
            defaults to ``USERCORE_DATABASE_URL``, then the embedded SQLite file.
        on: Hooks: an event class (``usercore.domain.events.UserRegistered``),
            a type name (``"user.registered"``) or ``"*"``, mapped to a
            function or several (sync or async) called with each such event,
            at least once and in order per user (see docs/events.md).
        deliver: Run the event dispatcher in the background while open (and
            deliver what is due once more on exit). Default: when there are
            hooks or webhooks. A server runs its own.
        **settings: Any other :class:`~usercore.config.Settings` field, e.g.
            ``password_min_length=12``; env vars ``USERCORE_*`` fill the rest.

    Raises:
        SettingsError: A setting is unusable; the message names it.
        ValueError: A key of ``on`` names no event type.
    """
    container = build_container(Settings.load({"database_url": database_url, **settings}))
    if on:
        subscribe(container, on)
    await start_resources(container)
    delivering: asyncio.Task[None] | None = None
    try:
        core = UserCore(
            users=await resolve(container.user_service()),
            auth=await resolve(container.auth_service()),
            sessions=await resolve(container.session_service()),
            container=container,
        )
        dispatcher = await core.dispatcher()
        if deliver if deliver is not None else bool(dispatcher.subscribers):
            delivering = asyncio.create_task(dispatcher.run())
        yield core
        if delivering is not None:
            # What the block committed reaches the hooks before connect returns.
            while await dispatcher.run_once():
                pass
    finally:
        if delivering is not None:
            delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivering
        await stop_resources(container)


async def resolve(provided: T | Awaitable[T]) -> T:
    """The value a provider gave: providers that depend on an async resource give awaitables."""
    if inspect.isawaitable(provided):
        return await provided
    return provided


async def start_resources(container: Container) -> None:
    """Start the container's resources (storage clients, the hashing threads)."""
    await _maybe_await(container.init_resources())


async def stop_resources(container: Container) -> None:
    """Stop the container's resources."""
    await _maybe_await(container.shutdown_resources())


async def _maybe_await(result: object) -> None:
    # init_resources/shutdown_resources return an awaitable only when some
    # resource is asynchronous.
    if result is not None and hasattr(result, "__await__"):
        await result
