"""The one error table: every error type maps to an HTTP status and an RFC 9457 problem."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import attrs
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from usercore.domain.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    PermissionDeniedError,
    SessionNotFoundError,
    ThrottledError,
    UserNotFoundError,
    ValidationError,
    VersionConflictError,
    WeakPasswordError,
)
from usercore.entrypoints.http.errors import (
    AuthenticationRequiredError,
    UnsupportedMediaTypeError,
)
from usercore.entrypoints.http.observability import request_id_of
from usercore.ports.errors import SchemaOutOfDateError, StorageUnavailableError
from usercore.ports.hashing import HasherBusyError

_NAMED_FIELD = re.compile(r"(?:unknown|missing required) field `([^`]{1,100})`")
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:usercore:problem:"

log = logging.getLogger("usercore.http")


@attrs.frozen
class ProblemType:
    """How one kind of error is answered."""

    status: int
    slug: str
    title: str


#: Error type -> problem. The most specific class in an error's MRO wins.
PROBLEMS: Mapping[type[Exception], ProblemType] = {
    ValidationError: ProblemType(400, "validation-error", "The request is not valid"),
    ValidationException: ProblemType(400, "validation-error", "The request is not valid"),
    # Litestar's answer to a body it can't decode (malformed JSON, invalid UTF-8).
    ClientException: ProblemType(400, "validation-error", "The request is not valid"),
    # Raised by the JSON decoder for invalid UTF-8 inside a string.
    UnicodeDecodeError: ProblemType(400, "validation-error", "The request is not valid"),
    WeakPasswordError: ProblemType(400, "weak-password", "The password is too weak"),
    InvalidCredentialsError: ProblemType(400, "invalid-credentials", "Invalid credentials"),
    AuthenticationRequiredError: ProblemType(401, "unauthorized", "Authentication required"),
    InvalidTokenError: ProblemType(401, "invalid-token", "The access token is not valid"),
    PermissionDeniedError: ProblemType(403, "forbidden", "Forbidden"),
    UserNotFoundError: ProblemType(404, "user-not-found", "User not found"),
    SessionNotFoundError: ProblemType(404, "session-not-found", "Session not found"),
    NotFoundException: ProblemType(404, "not-found", "Not found"),
    MethodNotAllowedException: ProblemType(405, "method-not-allowed", "Method not allowed"),
    EmailTakenError: ProblemType(409, "email-taken", "The email address is taken"),
    ThrottledError: ProblemType(429, "too-many-requests", "Too many attempts"),
    VersionConflictError: ProblemType(412, "version-mismatch", "The user has changed"),
    RequestEntityTooLarge: ProblemType(413, "payload-too-large", "The request body is too large"),
    UnsupportedMediaTypeError: ProblemType(
        415, "unsupported-media-type", "Unsupported content type"
    ),
    StorageUnavailableError: ProblemType(
        503, "service-unavailable", "The service is temporarily unavailable"
    ),
    SchemaOutOfDateError: ProblemType(
        503, "service-unavailable", "The service is temporarily unavailable"
    ),
    HasherBusyError: ProblemType(503, "service-unavailable", "The service is busy"),
}
INTERNAL_ERROR = ProblemType(500, "internal-error", "Internal server error")


class FieldError(msgspec.Struct, frozen=True):
    """One invalid input field."""

    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """An RFC 9457 problem details document."""

    type: str
    title: str
    status: int
    detail: str = ""
    request_id: str | None = None
    errors: list[FieldError] | None = None
    reasons: list[str] | None = None


def problem_type_for(exc: Exception) -> ProblemType | None:
    """The table's entry for ``exc``: the first class of its MRO that has one."""
    for cls in type(exc).__mro__:
        entry = PROBLEMS.get(cls)
        if entry is not None:
            return entry
    return None


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """Answer ``exc`` as a problem (Litestar's exception handler for every error)."""
    entry = problem_type_for(exc)
    request_id = request_id_of(request.scope)
    headers: dict[str, str] = {}
    if entry is None and isinstance(exc, HTTPException) and exc.status_code < 500:  # noqa: PLR2004
        status = HTTPStatus(exc.status_code)
        entry = ProblemType(status.value, status.phrase.lower().replace(" ", "-"), status.phrase)
    if entry is None:
        # Details go to the log only; the client gets the request id to quote.
        log.error("unhandled error", exc_info=exc)
        entry = INTERNAL_ERROR
        detail = "An unexpected error occurred; quote the request id when reporting it."
    else:
        detail = _detail(exc)
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if isinstance(exc, AuthenticationRequiredError | InvalidTokenError):
        headers["WWW-Authenticate"] = _challenge(exc)
    if isinstance(exc, RequestEntityTooLarge):
        # The rest of the body stays unread: the connection can't carry another request.
        headers["Connection"] = "close"
    if isinstance(exc, StorageUnavailableError | SchemaOutOfDateError):
        log.warning("storage unavailable: %s", exc)
        headers["Retry-After"] = "5"
    if isinstance(exc, HasherBusyError | ThrottledError):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    problem = Problem(
        type=PROBLEM_TYPE_PREFIX + entry.slug,
        title=entry.title,
        status=entry.status,
        detail=detail,
        request_id=request_id,
        errors=_field_errors(exc),
        reasons=list(exc.reasons) if isinstance(exc, WeakPasswordError) else None,
    )
    return Response(
        content=msgspec.json.encode(problem),
        status_code=entry.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _detail(exc: Exception) -> str:
    if isinstance(exc, ValidationException):
        return "The request is malformed or has invalid fields."
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if isinstance(exc, UnicodeDecodeError):
        return "The body is not valid UTF-8."
    if isinstance(exc, StorageUnavailableError | SchemaOutOfDateError):
        # The backend's reason may name hosts; it stays in the log.
        return "Storage is unavailable; try again shortly."
    if isinstance(exc, InvalidTokenError):
        # Which check failed (expired, revoked, ...) is for the log, not the client.
        return "Send a valid, unexpired access token."
    if isinstance(exc, AuthenticationRequiredError):
        return "Send an access token in the Authorization header as: Bearer <token>."
    if isinstance(exc, EmailTakenError):
        return "An account with this email address already exists."
    if isinstance(exc, ThrottledError):
        return "Too many failed attempts; wait as long as Retry-After says, then try again."
    return str(exc)


def _field_errors(exc: Exception) -> list[FieldError] | None:
    if isinstance(exc, ValidationError):
        return [FieldError(field=exc.field, message=exc.message)]
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        errors = []
        for item in exc.extra:
            if isinstance(item, dict):
                message = str(item.get("message", "invalid"))
                unknown = _NAMED_FIELD.search(message)
                key = unknown.group(1) if unknown else str(item.get("key") or "body")
                if key == "data":  # Litestar's name for the whole body
                    key = "body"
                errors.append(FieldError(field=key, message=str(item.get("message", "invalid"))))
        return errors or [FieldError(field="body", message=str(exc.detail))]
    if type(exc) is ClientException:
        return [FieldError(field="body", message=str(exc.detail))]
    if isinstance(exc, UnicodeDecodeError):
        return [FieldError(field="body", message="is not valid UTF-8")]
    return None


def _challenge(exc: Exception) -> str:
    if isinstance(exc, InvalidTokenError):
        return 'Bearer error="invalid_token", error_description="The access token is not valid"'
    return "Bearer"
