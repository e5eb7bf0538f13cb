"""Request ids, one structured log line per request, and request metrics, around every request."""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from usercore.entrypoints.http.metrics import HttpMetrics

REQUEST_ID_HEADER = b"x-request-id"
#: A client-sent request id is kept only when it is short and plain, so it can't forge log lines.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
#: Route label of requests that matched no route: raw paths would explode the label set.
UNMATCHED_ROUTE = "<unmatched>"

#: The id of the request being handled, for every log line it causes.
current_request_id: ContextVar[str | None] = ContextVar("usercore_request_id", default=None)

access_log = logging.getLogger("usercore.http.access")


def request_id_of(scope: Scope | dict[str, Any]) -> str | None:
    """The id of the request in ``scope``, as sent back in ``X-Request-ID``."""
    state = scope.get("state")
    return state.get("request_id") if state else None


class RequestObserver:
    """Wraps the app's ASGI handler: every request gets an id, a log line and metrics.

    It sits outside Litestar's router, so unmatched routes (404) and methods
    (405) are observed too.
    """

    def __init__(
        self, app: ASGIApp, metrics: HttpMetrics, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection."""
        if scope["type"] != ScopeType.HTTP:
            await self._app(scope, receive, send)
            return
        method = scope["method"]
        started = self._clock()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header, _NOSNIFF]
            await send(message)

        try:
            await self._app(scope, receive, send_with_id)
        finally:
            duration = self._clock() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            self._metrics.observe(method, route, status, duration)
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                },
            )
            current_request_id.reset(token)


#: On every response (API.md): browsers must not guess a type from the content.
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            if _SAFE_REQUEST_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return secrets.token_hex(8)
