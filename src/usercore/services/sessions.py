"""Login sessions as their user sees them: list them, end one, end all; and the purge."""

from __future__ import annotations

from usercore.domain.errors import SessionNotFoundError
from usercore.domain.events import AllSessionsRevoked, SessionRevoked
from usercore.domain.ids import UserId, parse_uuid
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.ports.clock import Clock
from usercore.ports.sessions import SessionRepository
from usercore.ports.users import UserRepository
from usercore.services._writes import apply_change
from usercore.services.announce import Announcer
from usercore.services.arguments import actor_of, text_of, user_id_of
from usercore.services.policy import require_admin
from usercore.services.user_events import single


class SessionService:
    """What a user (or an administrator) can do with login sessions.

    A session is live while it is neither revoked nor expired and was started
    under the user's current credential epoch. Ending every session bumps the
    epoch, which also voids every access token already issued; ending one
    session stops its refresh token at once, while its access tokens live out
    their short lifetime (as RFC 7009 allows).
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        sessions: SessionRepository,
        clock: Clock,
        announcer: Announcer | None = None,
    ) -> None:
        self._announcer = announcer if announcer is not None else Announcer(clock=clock)
        self._users = users
        self._sessions = sessions
        self._clock = clock

    async def list_sessions(self, *, actor: User) -> list[Session]:
        """The live sessions of ``actor``, newest first."""
        actor = actor_of(actor)
        now = self._clock.now()
        stored = await self._sessions.list_for_user(actor.id)
        live = [
            session
            for session in stored
            if session.is_live(now) and actor.accepts_credentials_of(session.epoch)
        ]
        return live[::-1]

    async def revoke_session(self, *, actor: User, session_id: str) -> None:
        """End one live session of ``actor``; its refresh token stops working at once.

        Raises:
            ValidationError: ``session_id`` is not a UUID.
            SessionNotFoundError: No live session of ``actor`` has this id
                (another user's session is not found either).
        """
        actor = actor_of(actor)
        session_id = parse_uuid(text_of(session_id, "session_id"), field="session_id")
        session = await self._sessions.get(session_id)
        now = self._clock.now()
        if (
            session is None
            or session.user_id != actor.id
            or not session.is_live(now)
            or not await self._sessions.revoke(session_id, now=now)
        ):
            raise SessionNotFoundError(session_id)
        event = self._announcer.make(
            SessionRevoked, user_id=actor.id, session_id=session_id, reason="user"
        )
        await self._announcer.announce([event])

    async def revoke_all(self, *, actor: User) -> User:
        """Log out everywhere: end every session and access token of ``actor``, these included.

        Returns:
            The user as stored after the change (at its next credential epoch).
        """
        actor = actor_of(actor)
        return await self._end_all(actor.id, known=actor, actor_id=None)

    async def admin_revoke_all(self, *, actor: User, user_id: UserId | str) -> User:
        """End every session and access token of a user (administrators only).

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
        """
        actor, user_id = actor_of(actor), user_id_of(user_id)
        require_admin(actor, "revoke_sessions")
        return await self._end_all(user_id, known=actor, actor_id=actor.id)

    async def purge(self) -> int:
        """Delete the sessions that can never act again (revoked or expired).

        Returns:
            How many were deleted.
        """
        return await self._sessions.purge(now=self._clock.now())

    async def _end_all(self, user_id: UserId, *, known: User, actor_id: UserId | None) -> User:
        now = self._clock.now()
        # The epoch decides: bumping it is what ends every token, in one
        # compare-and-set write (with its event). Marking the rows revoked
        # afterwards only tidies up (lists, purge); a crash between loses nothing.
        user, events = await apply_change(
            self._users,
            user_id,
            lambda user: user.with_sessions_revoked(now=now),
            known=known,
            announce=single(self._announcer, AllSessionsRevoked, actor_id=actor_id),
        )
        self._announcer.written(events)
        await self._sessions.revoke_all(user_id, now=now)
        return user
