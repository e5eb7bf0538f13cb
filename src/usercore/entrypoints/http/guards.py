"""Request checks shared by routes: the bearer token and the body's content type."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from usercore.domain.errors import InvalidTokenError
from usercore.entrypoints.http.errors import AuthenticationRequiredError, UnsupportedMediaTypeError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: Key of a route's ``opt`` naming the body media type it takes.
BODY_MEDIA_TYPE = "body_media_type"


def bearer_token(scope: Scope) -> str:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1).

    Raises:
        AuthenticationRequiredError: No credentials of the Bearer scheme were sent.
        InvalidTokenError: The Bearer credentials are empty or malformed.
    """
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() != b"bearer":
                raise AuthenticationRequiredError
            token = token.strip()
            if not token or not token.isascii():
                raise InvalidTokenError("malformed bearer credentials")
            return token.decode("ascii")
    raise AuthenticationRequiredError


async def require_body_media_type(
    connection: ASGIConnection[Any, Any, Any, Any], route_handler: BaseRouteHandler
) -> None:
    """Guard: the body's ``Content-Type`` is the one the route takes (415 otherwise).

    A coroutine function although it awaits nothing: Litestar runs a plain
    function guard on a worker thread, a thread hop on every request.
    """
    expected = route_handler.opt[BODY_MEDIA_TYPE]
    content_type = None
    has_body = False
    for name, value in connection.scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            has_body = True
    if content_type is None:
        if has_body:
            raise UnsupportedMediaTypeError(expected)
        return  # no body at all: the route answers what is missing
    media_type = content_type.partition(b";")[0].strip().lower()
    if media_type.decode("latin-1") != expected:
        raise UnsupportedMediaTypeError(expected)
