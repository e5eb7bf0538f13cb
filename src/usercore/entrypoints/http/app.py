"""The Litestar app factory: the whole HTTP API over one container."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request
from litestar.di import NamedDependency, Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin

import usercore
from usercore.container import Container, subscribe
from usercore.domain.errors import UserCoreError
from usercore.domain.user import User
from usercore.entrypoints.http.controllers.operations import (
    MetricsController,
    OperationsController,
)
from usercore.entrypoints.http.controllers.sessions import SessionsController
from usercore.entrypoints.http.controllers.tokens import KeysController, TokensController
from usercore.entrypoints.http.controllers.users import UsersController
from usercore.entrypoints.http.guards import bearer_token
from usercore.entrypoints.http.metrics import HttpMetrics
from usercore.entrypoints.http.observability import RequestObserver
from usercore.entrypoints.http.openapi import COMPONENTS
from usercore.entrypoints.http.problems import problem_response
from usercore.entrypoints.http.wiring import AppServices
from usercore.services.hooks import EventKey, Hook

#: API.md: bodies over 64 KiB are refused (413) before any parsing or hashing.
MAX_BODY_BYTES = 64 * 1024

__all__ = ["MAX_BODY_BYTES", "create_app"]


def create_app(
    container: Container, *, on: Mapping[EventKey, Hook | Iterable[Hook]] | None = None
) -> Litestar:
    """The usercore HTTP API as a Litestar app, serving the services of ``container``.

    The container's resources (storage clients, the hasher's pool) start and
    stop with the app's lifespan, so the app can be served by any ASGI server
    or mounted inside another application. The app delivers events in the
    background: to ``on``'s hooks (as in ``usercore.connect``) and the
    configured webhooks.
    """
    if on:
        subscribe(container, on)
    services = AppServices(container, HttpMetrics())

    # One dependency for the services, and the actor resolved after it: Litestar
    # resolves dependencies of one level together in an anyio task group, a task
    # per dependency on every request, which a handler with one per level skips.
    def provide_services() -> AppServices:
        return services

    async def provide_actor(
        request: Request[Any, Any, Any], services: NamedDependency[AppServices]
    ) -> User:
        # Authorization always uses the stored user the token service loads.
        token = bearer_token(request.scope)
        return await (await services.tokens()).authenticate(access_token=token)

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            await services.stop()

    config = container.config
    # /metrics moves to a listener of its own when a metrics port is set (usercore serve).
    serve_metrics = config.metrics() and config.metrics_port() is None
    openapi = OpenAPIConfig(
        title="usercore",
        version=usercore.__version__,
        description="User management: registration, login, tokens, profiles and roles.",
        path="/schema",
        render_plugins=[SwaggerRenderPlugin()],
        components=COMPONENTS,
    )
    app = Litestar(
        route_handlers=[
            UsersController,
            SessionsController,
            TokensController,
            KeysController,
            OperationsController,
            *([MetricsController] if serve_metrics else []),
        ],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        exception_handlers={
            UserCoreError: problem_response,
            Exception: problem_response,
        },
        lifespan=[lifespan],
        request_max_body_size=MAX_BODY_BYTES,
        logging_config=None,
        openapi_config=openapi if config.openapi() else None,
    )
    # Outside the router, so unmatched routes get a request id, a log line and metrics too.
    app.asgi_handler = RequestObserver(app.asgi_handler, services.metrics)
    return app
