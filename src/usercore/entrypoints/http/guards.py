"""Request checks shared by routes: the bearer token and the body's content type."""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope

from usercore.domain.errors import InvalidTokenError, ValidationError
from usercore.entrypoints.http.errors import AuthenticationRequiredError, UnsupportedMediaTypeError

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: msgspec's words for a field of the top-level object it found missing or unknown.
_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]{1,100})`")
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
    if expected == JSON and isinstance(connection, Request):
        check_json_body(await connection.body(), _body_type(route_handler))


def check_json_body(body: bytes, body_type: type[Any]) -> None:
    """Decode ``body`` as ``body_type`` strictly: no coercion of any kind.

    Litestar converts request data leniently (``1``, ``"1"`` or ``"true"``
    for a boolean); this check runs first and refuses every body that
    strict decoding refuses, naming the field. Litestar's own decoding then
    only ever sees bodies that are exactly right.

    Raises:
        ValidationError: The body is not JSON, or not exactly of ``body_type``.
    """
    try:
        msgspec.json.decode(body, type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        message, _, path = str(exc).partition(" - at `$")
        field = path.rstrip("`").lstrip(".").split("[")[0].split(".")[0]
        named = _NAMED_FIELD.search(message)
        raise ValidationError(field or (named.group(1) if named else "body"), message) from None
    except msgspec.DecodeError:
        raise ValidationError("body", "is not valid JSON") from None


@functools.cache
def _body_type(route_handler: BaseRouteHandler) -> type[Any]:
    data = route_handler.parsed_fn_signature.parameters["data"]
    body_type: type[Any] = data.annotation
    return body_type
