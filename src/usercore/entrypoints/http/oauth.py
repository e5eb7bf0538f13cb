"""The token endpoints' error form (RFC 6749 §5.2), instead of problem details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from usercore.domain.errors import (
    InvalidCredentialsError,
    InvalidTokenError,
    ThrottledError,
    UserCoreError,
    ValidationError,
)
from usercore.entrypoints.http.errors import UnsupportedGrantTypeError, UnsupportedMediaTypeError
from usercore.entrypoints.http.problems import problem_response
from usercore.entrypoints.http.schemas import OAuthError

#: Error type -> (status, RFC 6749 error code, description). One answer for every
#: failed grant, so nobody learns which emails exist or why a refresh token failed.
OAUTH_ERRORS: Mapping[type[Exception], tuple[int, str, str]] = {
    InvalidCredentialsError: (400, "invalid_grant", "The credentials or grant are not valid."),
    InvalidTokenError: (400, "invalid_grant", "The credentials or grant are not valid."),
    # API.md: throttled logins keep the RFC 6749 form, with Retry-After.
    ThrottledError: (
        429,
        "invalid_grant",
        "Too many failed attempts; wait as long as Retry-After says, then try again.",
    ),
    ValidationError: (400, "invalid_request", "The request is malformed."),
    ValidationException: (400, "invalid_request", "The request is malformed."),
    UnsupportedGrantTypeError: (
        400,
        "unsupported_grant_type",
        "Use grant_type=password or grant_type=refresh_token.",
    ),
    UnsupportedMediaTypeError: (
        415,
        "invalid_request",
        "Send the body as application/x-www-form-urlencoded.",
    ),
}
#: Headers of every token endpoint answer (RFC 6749 §5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Answer a failed token request in the RFC 6749 §5.2 form."""
    for cls in type(exc).__mro__:
        entry = OAUTH_ERRORS.get(cls)
        if entry is not None:
            status, error, description = entry
            break
    else:
        if isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
            status, error, description = exc.status_code, "invalid_request", str(exc.detail)
        else:
            # Storage trouble and bugs are not the client's fault: problem details.
            return problem_response(request, exc)
    body = OAuthError(error=error, error_description=description)
    headers = NO_STORE
    if isinstance(exc, ThrottledError):
        headers = {**NO_STORE, "Retry-After": str(exc.retry_after_seconds)}
    if isinstance(exc, RequestEntityTooLarge):
        # The rest of the body stays unread: the connection can't carry another request.
        headers = {**NO_STORE, "Connection": "close"}
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


#: Route-level exception handlers of the token endpoints.
OAUTH_EXCEPTION_HANDLERS = {
    HTTPException: oauth_error_response,
    UserCoreError: oauth_error_response,
}
