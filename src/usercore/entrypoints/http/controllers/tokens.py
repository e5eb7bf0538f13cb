"""The token routes: ``/auth/token``, ``/auth/revoke`` and the published keys (API.md, "Tokens")."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody

from usercore.domain.errors import InvalidCredentialsError, ValidationError
from usercore.entrypoints.http.errors import UnsupportedGrantTypeError
from usercore.entrypoints.http.guards import BODY_MEDIA_TYPE, FORM, require_body_media_type
from usercore.entrypoints.http.oauth import NO_STORE, OAUTH_EXCEPTION_HANDLERS
from usercore.entrypoints.http.openapi import oauth_errors, problems
from usercore.entrypoints.http.schemas import Revoked, RevokeRequest, TokenOut, TokenRequest
from usercore.entrypoints.http.wiring import AppServices, IssuedTokens

_REVOKED = Revoked()
_FORM_BODY = {
    "guards": [require_body_media_type],
    "opt": {BODY_MEDIA_TYPE: FORM},
    "exception_handlers": OAUTH_EXCEPTION_HANDLERS,
}


def _required(value: str | None, field: str) -> str:
    if not value:
        raise ValidationError(field, "is required")
    return value


def _token_response(pair: IssuedTokens) -> Response[TokenOut]:
    body = TokenOut(
        access_token=pair.access_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )
    return Response(body, headers=NO_STORE)


class TokensController(Controller):
    """OAuth 2.0 shaped token issuing and revocation."""

    path = "/auth"
    tags = ["tokens"]  # noqa: RUF012 - Litestar reads this class attribute

    @post(
        "/token",
        status_code=200,
        summary="Log in or refresh (RFC 6749)",
        responses={**oauth_errors(400, 413, 415, 429), **problems(503)},
        **_FORM_BODY,  # type: ignore[arg-type]
    )
    async def token(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[TokenRequest],
        services: NamedDependency[AppServices],
    ) -> Response[TokenOut]:
        """``grant_type=password`` (username, password) or ``refresh_token`` (refresh_token)."""
        tokens, metrics = await services.tokens(), services.metrics
        if data.grant_type == "password":
            username = _required(data.username, "username")
            password = _required(data.password, "password")
            try:
                pair = await tokens.password_grant(
                    email=username,
                    password=password,
                    user_agent=request.headers.get("user-agent", ""),
                )
            except InvalidCredentialsError:
                metrics.login(success=False)
                raise
            metrics.login(success=True)
            return _token_response(pair)
        if data.grant_type == "refresh_token":
            refresh_token = _required(data.refresh_token, "refresh_token")
            return _token_response(await tokens.refresh_grant(refresh_token=refresh_token))
        if not data.grant_type:
            raise ValidationError("grant_type", "is required")
        raise UnsupportedGrantTypeError

    @post(
        "/revoke",
        status_code=200,
        summary="Log out: revoke a refresh token (RFC 7009)",
        responses={**oauth_errors(400, 413, 415), **problems(503)},
        **_FORM_BODY,  # type: ignore[arg-type]
    )
    async def revoke(
        self,
        data: URLEncodedBody[RevokeRequest],
        services: NamedDependency[AppServices],
    ) -> Response[Revoked]:
        """End the session of a refresh token; 200 whether or not the token was known."""
        tokens = await services.tokens()
        await tokens.revoke(token=_required(data.token, "token"))
        return Response(_REVOKED, headers=NO_STORE)


class KeysController(Controller):
    """The public keys that verify access tokens."""

    path = "/.well-known"
    tags = ["tokens"]  # noqa: RUF012 - Litestar reads this class attribute

    @get("/jwks.json", summary="Public signing keys (RFC 7517)")
    async def jwks(self, services: NamedDependency[AppServices]) -> dict[str, object]:
        """The JWK set of every key that may have signed a live access token."""
        return (await services.tokens()).jwks()
