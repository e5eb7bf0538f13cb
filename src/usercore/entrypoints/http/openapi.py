"""OpenAPI details the handlers share: the bearer scheme and the documented problem answers."""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme

from usercore.entrypoints.http.problems import PROBLEM_MEDIA_TYPE, Problem
from usercore.entrypoints.http.schemas import OAuthError

BEARER = "bearer"
#: ``security=`` of every route that needs an access token.
BEARER_SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]

COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http",
            scheme="bearer",
            bearer_format="JWT",
            description="An access token from POST /auth/token.",
        )
    }
)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a route that can answer these statuses with a problem."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_MEDIA_TYPE,
            description=HTTPStatus(status).phrase,
        )
        for status in statuses
    }


def oauth_errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The ``responses=`` of a token endpoint: RFC 6749 §5.2 errors."""
    return {
        status: ResponseSpec(
            data_container=OAuthError, description=f"{HTTPStatus(status).phrase} (RFC 6749 §5.2)"
        )
        for status in statuses
    }
