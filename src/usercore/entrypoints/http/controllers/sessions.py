"""The session routes: one's own login sessions, and an administrator's "log them out"."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get
from litestar.di import NamedDependency
from litestar.params import PathParameter

from usercore.domain.ids import UserId
from usercore.domain.user import User
from usercore.entrypoints.http.guards import bearer_token
from usercore.entrypoints.http.openapi import BEARER_SECURITY, problems
from usercore.entrypoints.http.schemas import SessionListOut, sessions_out
from usercore.entrypoints.http.wiring import AppServices

SessionIdPath = Annotated[str, PathParameter(description="A session id (a UUID).", max_length=64)]
UserIdPath = Annotated[str, PathParameter(description="The user's id (a UUID).", max_length=64)]


class SessionsController(Controller):
    """``/users/me/sessions`` and ``/users/{id}/sessions`` (see API.md, "Accounts")."""

    path = "/users"
    tags = ["sessions"]  # noqa: RUF012 - Litestar reads this class attribute

    @get(
        "/me/sessions",
        summary="List my sessions",
        security=BEARER_SECURITY,
        responses=problems(401),
    )
    async def list_my_sessions(
        self, request: Request[Any, Any, Any], services: NamedDependency[AppServices]
    ) -> Response[SessionListOut]:
        """The caller's live login sessions, newest first; ``current`` marks this token's."""
        tokens = await services.tokens()
        actor, claims = await tokens.authenticate_claims(access_token=bearer_token(request.scope))
        listed = await (await services.sessions()).list_sessions(actor=actor)
        return Response(
            sessions_out(listed, current=claims.session_id), headers={"Cache-Control": "no-store"}
        )

    @delete(
        "/me/sessions/{session_id:str}",
        summary="End one of my sessions",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 404),
    )
    async def end_my_session(
        self,
        session_id: SessionIdPath,
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> None:
        """End one session of the caller's; its refresh token stops working at once."""
        sessions = await services.sessions()
        await sessions.revoke_session(actor=actor, session_id=session_id)

    @delete(
        "/me/sessions",
        summary="Log out everywhere",
        security=BEARER_SECURITY,
        responses=problems(401),
    )
    async def end_all_my_sessions(
        self, actor: NamedDependency[User], services: NamedDependency[AppServices]
    ) -> None:
        """End every session and access token of the caller's, this one included."""
        await (await services.sessions()).revoke_all(actor=actor)

    @delete(
        "/{user_id:str}/sessions",
        summary="End a user's sessions (admin)",
        security=BEARER_SECURITY,
        responses=problems(400, 401, 403, 404),
    )
    async def end_all_sessions_of(
        self,
        user_id: UserIdPath,
        actor: NamedDependency[User],
        services: NamedDependency[AppServices],
    ) -> None:
        """End every session and access token of a user."""
        sessions = await services.sessions()
        await sessions.admin_revoke_all(actor=actor, user_id=UserId.parse(user_id))
