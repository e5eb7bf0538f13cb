"""The account routes: ``/users`` and ``/users/me`` (see API.md, "Accounts")."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.types import Scope

from usercore.domain.errors import ValidationError
from usercore.domain.ids import UserId
from usercore.domain.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, UserQuery
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.entrypoints.http.etags import etag, expected_version
from usercore.entrypoints.http.guards import BODY_MEDIA_TYPE, JSON, require_body_media_type
from usercore.entrypoints.http.openapi import BEARER_SECURITY, problems
from usercore.entrypoints.http.schemas import (
    AdminChange,
    EmailChange,
    PasswordChange,
    PendingEmailOut,
    ProfileChange,
    Reauthentication,
    Registration,
    UserOut,
    UserPageOut,
    page_out,
    user_out,
)
from usercore.entrypoints.http.wiring import AppServices

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        required=False,
        description='Apply only to this version of the user, as sent in ETag (e.g. "3").',
    ),
]
UserIdPath = Annotated[str, PathParameter(description="The user's id (a UUID).", max_length=64)]
#: Headers of every response that carries one user: its version, and no caching of personal data.
_NO_STORE = "no-store"
#: OpenAPI: the headers of every answer that carries one user.
_ONE_USER_HEADERS = [
    ResponseHeader(
        name="ETag", documentation_only=True, required=True, description='The version: "<n>".'
    ),
    ResponseHeader(name="Cache-Control", documentation_only=True, required=True, value="no-store"),
]
_JSON_BODY = {"guards": [require_body_media_type], "opt": {BODY_MEDIA_TYPE: JSON}}


def _mount_prefix(scope: Scope) -> str:
    # Where another app mounted us: its root_path (ASGI), or what Litestar's
    # mounts strip from the path before handing the request over.
    root_path: str = scope.get("root_path", "")
    if root_path:
        return root_path
    raw_path = scope.get("raw_path", b"").decode("latin-1")
    path = scope["path"]
    if path and raw_path.endswith(path):
        return raw_path[: len(raw_path) - len(path)]
    return ""


def _one(user: User, status_code: int = 200, **headers: str) -> Response[UserOut]:
    return Response(
        user_out(user),
        status_code=status_code,
        headers={"ETag": etag(user), "Cache-Control": _NO_STORE, **headers},
    )


class UsersController(Controller):
    """Registration, one's own account, and the administrators' user management."""

    path = "/users"
    tags = ["users"]  # noqa: RUF012 - Litestar reads this class attribute

    @post(
        "/",
        status_code=201,
        summary="Register",
        response_headers=[
            *_ONE_USER_HEADERS,
            ResponseHeader(
                name="Location",
                documentation_only=True,
                required=True,
                description="/users/{id} of the new user.",
            ),
        ],
        responses=problems(400, 409, 413, 415),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[Registration],
        services: NamedDependency[AppServices],
    ) -> Response[UserOut]:
        """Create an account (anyone may)."""
        users = await services.users()
        user = await users.register(email=data.email, password=data.password, name=data.name)
        location = f"{_mount_prefix(request.scope)}/users/{user.id.value}"
        return _one(user, 201, Location=location)

    @get(
        "/me",
        summary="Read my account",
        response_headers=_ONE_USER_HEADERS,
        security=BEARER_SECURITY,
        responses=problems(401),
    )
    async def read_me(self, actor: NamedDependency[User]) -> Response[UserOut]:
        """The caller's own account."""
        return _one(actor)

    @patch(
        "/me",
        summary="Change my name or email",
        response_headers=_ONE_USER_HEADERS,
        security=BEARER_SECURITY,
        responses=problems(400, 401, 409, 412, 413, 415),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def update_me(
        self,
        data: JSONBody[ProfileChange],
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
        if_match: IfMatch = None,
    ) -> Response[UserOut]:
        """Change the caller's name (the email changes with ``POST /users/me/email``)."""
        if data.email is not None:
            raise ValidationError(
                "email", "is changed with POST /users/me/email, which asks for the current password"
            )
        users = await services.users()
        user = await users.update_profile(
            actor=actor, name=data.name, expected_version=expected_version(if_match)
        )
        return _one(user)

    @post(
        "/me/email",
        status_code=202,
        summary="Change my email",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 409, 413, 415, 429, 503),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def change_email(
        self,
        data: JSONBody[EmailChange],
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> Response[PendingEmailOut]:
        """Move the caller's login email, proven by the current password.

        Until email confirmation lands, the change applies at once after the
        password check; the new email is unverified.
        """
        users = await services.users()
        user = await users.change_email(
            actor=actor, email=data.email, current_password=data.current_password
        )
        return Response(
            PendingEmailOut(pending_email=user.email.value),
            status_code=202,
            headers={"Cache-Control": _NO_STORE},
        )

    @put(
        "/me/password",
        status_code=204,
        summary="Change my password",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 413, 415, 429, 503),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> None:
        """Replace the caller's password; every session of theirs ends."""
        users = await services.users()
        await users.change_password(
            actor=actor, current_password=data.current_password, new_password=data.new_password
        )

    @delete(
        "/me",
        summary="Delete my account",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 413, 415, 429, 503),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def delete_me(
        self,
        data: JSONBody[Reauthentication],
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> None:
        """Erase the caller's account and every session of it, proven by the current password."""
        users = await services.users()
        await users.delete_self(actor=actor, current_password=data.current_password)

    @get(
        "/",
        summary="List users (admin)",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 403),
    )
    async def list_users(  # noqa: PLR0917 - Litestar passes query parameters by name
        self,
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
        limit: Annotated[
            str,
            QueryParameter(pattern="^[0-9]{1,3}$", description=f"Page size, 1 to {MAX_PAGE_SIZE}."),
        ] = str(DEFAULT_PAGE_SIZE),
        cursor: Annotated[str | None, QueryParameter(max_length=64)] = None,
        email_prefix: Annotated[str | None, QueryParameter(max_length=254)] = None,
        role: Annotated[str | None, QueryParameter(max_length=64)] = None,
        is_active: Annotated[
            str | None, QueryParameter(pattern="^(true|false)$", description="true or false")
        ] = None,
    ) -> Response[UserPageOut]:
        """One page of users in id order; continue with ``cursor=<next_cursor>``."""
        # Digits only (Litestar would take "5.0" for an integer), then the range.
        page_size = int(limit)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValidationError("limit", f"must be from 1 to {MAX_PAGE_SIZE}")
        query = UserQuery.from_cursor(
            limit=page_size,
            cursor=cursor,
            email_prefix=email_prefix,
            role=None if role is None else Role(role),
            # Exactly true or false: Litestar would take 1, yes or on for a boolean.
            is_active=None if is_active is None else is_active == "true",
        )
        users = await services.users()
        page = await users.list_users(actor=actor, query=query)
        return Response(page_out(page), headers={"Cache-Control": _NO_STORE})

    @get(
        "/{user_id:str}",
        summary="Read a user",
        response_headers=_ONE_USER_HEADERS,
        security=BEARER_SECURITY,
        responses=problems(400, 401, 404),
    )
    async def read_user(
        self,
        user_id: UserIdPath,
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> Response[UserOut]:
        """A user: oneself, or anyone for an administrator (others' ids are 404)."""
        users = await services.users()
        return _one(await users.get_user(actor=actor, user_id=UserId.parse(user_id)))

    @patch(
        "/{user_id:str}",
        summary="Change a user (admin)",
        response_headers=_ONE_USER_HEADERS,
        security=BEARER_SECURITY,
        responses=problems(400, 401, 403, 404, 409, 412, 413, 415),
        **_JSON_BODY,  # type: ignore[arg-type]
    )
    async def update_user(
        self,
        user_id: UserIdPath,
        data: JSONBody[AdminChange],
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
        if_match: IfMatch = None,
    ) -> Response[UserOut]:
        """Change any managed field of a user; deactivation voids their tokens for good."""
        users = await services.users()
        user = await users.admin_update(
            actor=actor,
            user_id=UserId.parse(user_id),
            name=data.name,
            email=data.email,
            roles=data.role_set(),
            is_active=data.is_active,
            is_verified=data.is_verified,
            expected_version=expected_version(if_match),
        )
        return _one(user)

    @delete(
        "/{user_id:str}",
        summary="Delete a user (admin)",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 403, 404),
    )
    async def delete_user(
        self,
        user_id: UserIdPath,
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> None:
        """Delete a user and every session of theirs."""
        users = await services.users()
        await users.admin_delete(actor=actor, user_id=UserId.parse(user_id))
