"""Tokens: logging in with a password, rotating refresh tokens, logging out, checking access tokens.

A refresh token is ``<session id>.<secret>``: the session id finds the
session by primary key, the secret (256 bits from ``secrets``) makes it
unguessable. Only the SHA-256 of the whole token is stored; high-entropy
secrets need no slow hash.

Each refresh replaces the session's token. A token that was already replaced
and is presented again means that two parties hold it, so the whole session
is revoked (reuse detection, OAuth 2.0 Security BCP §4.14.2). That includes
the loser of a race between two refreshes with the same token: from the
server's side, a client racing itself looks exactly like an attacker racing
the client, so clients must not refresh one session concurrently.

A client whose refresh answer was lost retries with the token it still
holds, now the previous one. With a reuse interval (off by default) that
retry, within the interval of the rotation, rotates again instead of
revoking the session.

Refresh tokens slide: each one is valid ``refresh_token_ttl`` from when it
was issued, so a session lives while it is used and ends after that long idle,
but never longer than ``session_max_age`` from its login.

Revocation is decided by the user's credential epoch, never by comparing
times: a session and every access token carry the epoch of the user record
that was read *before* the password was checked, and act only while that is
still the user's epoch. A password change, a deactivation or "log out
everywhere" bumps it in the same write, so a login or refresh still in flight
when it happens yields tokens that are refused from the start.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import attrs

from usercore.domain.errors import InvalidCredentialsError, InvalidTokenError, UserNotFoundError
from usercore.domain.events import LoggedIn, RefreshTokenReused, SessionRevoked
from usercore.domain.ids import UserId
from usercore.domain.sessions import Session
from usercore.domain.user import User
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.sessions import SessionRepository
from usercore.ports.tokens import (
    AccessClaims,
    AccessTokenSigner,
    AccessTokenVerifier,
    PublicKeySet,
)
from usercore.ports.users import UserRepository
from usercore.services.announce import Announcer
from usercore.services.arguments import text_of, user_of
from usercore.services.auth import AuthService

#: Bytes of randomness in a refresh token's secret (256 bits).
REFRESH_SECRET_BYTES = 32
#: Longer refresh tokens are refused before any lookup; ours are about 80 characters.
MAX_REFRESH_TOKEN_LENGTH = 256
_SESSION_ID_LENGTH = 36


@attrs.frozen
class TokenPair:
    """What a successful grant returns (the body of an RFC 6749 §5.1 token response).

    Attributes:
        access_token: A signed JWT for ``Authorization: Bearer``.
        refresh_token: An opaque, single-use token for the next refresh.
        expires_in: Seconds the access token is valid.
        token_type: Always ``Bearer``.
    """

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 token type, not a secret


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _session_id_of(token: str) -> str | None:
    """The session id part of a refresh token, or None when it can't be one of ours."""
    if len(token) > MAX_REFRESH_TOKEN_LENGTH:
        return None
    session_id, dot, secret = token.partition(".")
    if not dot or not secret or len(session_id) != _SESSION_ID_LENGTH:
        return None
    return session_id


def _matches(token_hash: str, stored: str) -> bool:
    return hmac.compare_digest(token_hash.encode("ascii"), stored.encode("ascii"))


class TokenService:
    """Issues, rotates, revokes and checks tokens.

    Every check that a token still acts for its user uses the stored user: a
    deleted user's tokens fail; so do those of an inactive user, and those
    issued under another credential epoch than the user's current one (a
    password change, a deactivation or "log out everywhere" bumps it).

    A user has at most ``max_sessions`` live sessions: a login beyond that
    ends the oldest ones.
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        sessions: SessionRepository,
        auth: AuthService,
        signer: AccessTokenSigner,
        verifier: AccessTokenVerifier,
        public_keys: PublicKeySet,
        clock: Clock,
        ids: IdFactory,
        access_token_ttl_seconds: int,
        refresh_token_ttl_seconds: int,
        session_max_age_seconds: int = 90 * 24 * 3600,
        max_sessions: int = 100,
        refresh_reuse_interval_seconds: int = 0,
        announcer: Announcer | None = None,
    ) -> None:
        self._announcer = announcer if announcer is not None else Announcer(clock=clock, ids=ids)
        self._users = users
        self._sessions = sessions
        self._auth = auth
        self._signer = signer
        self._verifier = verifier
        self._public_keys = public_keys
        self._clock = clock
        self._ids = ids
        self._access_ttl = timedelta(seconds=access_token_ttl_seconds)
        self._refresh_ttl = timedelta(seconds=refresh_token_ttl_seconds)
        self._expires_in = access_token_ttl_seconds
        self._max_age = timedelta(seconds=session_max_age_seconds)
        self._max_sessions = max_sessions
        self._reuse_interval = timedelta(seconds=refresh_reuse_interval_seconds)

    async def password_grant(self, *, email: str, password: str, user_agent: str = "") -> TokenPair:
        """Log in: check the password and start a new session (RFC 6749 §4.3).

        Args:
            email: The account's email, as typed.
            password: The password, as typed.
            user_agent: The client's ``User-Agent``, kept with the session so
                the user can tell their sessions apart.

        Raises:
            InvalidCredentialsError: Unknown email, wrong password or inactive user.
            ThrottledError: Too many recent failures for this email.
            ValidationError: The password is longer than any account can have.
        """
        user_agent = text_of(user_agent, "user_agent")
        user = await self._auth.authenticate(email=email, password=password)
        return await self.issue(user, user_agent=user_agent)

    async def issue(self, user: User, *, user_agent: str = "") -> TokenPair:
        """Start a session for ``user`` and return its first tokens.

        For users who signed in some other way than the password grant (single
        sign-on, a magic link, right after registration). The tokens carry
        ``user.credential_epoch``: pass the user as read before whatever proved
        their identity, so a password change in between voids them.

        Raises:
            InvalidCredentialsError: The user is inactive or no longer stored.
        """
        user, user_agent = user_of(user), text_of(user_agent, "user_agent")
        if not user.is_active:
            raise InvalidCredentialsError
        now = self._clock.now()
        session_id = self._ids.new_id()
        refresh_token = self._new_refresh_token(session_id)
        session = Session.start(
            id=session_id,
            user_id=user.id,
            token_hash=_token_hash(refresh_token),
            now=now,
            expires_at=now + min(self._refresh_ttl, self._max_age),
            epoch=user.credential_epoch,
            user_agent=user_agent,
        )
        try:
            await self._sessions.add(session)
        except UserNotFoundError:
            # Deleted between the password check and now.
            raise InvalidCredentialsError from None
        await self._announcer.announce(
            [self._announcer.make(LoggedIn, user_id=user.id, session_id=session.id)]
        )
        await self._end_sessions_over_cap(user, now)
        return TokenPair(
            access_token=self._access_token(user, session, now),
            refresh_token=refresh_token,
            expires_in=self._expires_in,
        )

    async def refresh_grant(self, *, refresh_token: str) -> TokenPair:
        """Exchange a refresh token for new tokens (RFC 6749 §6); the old one is used up.

        Presenting a token that was already exchanged revokes its whole session;
        with a reuse interval, the immediately previous token presented within
        it of its rotation rotates again instead (see :meth:`_retried_in_time`).

        Raises:
            InvalidTokenError: The token is unknown, expired, revoked or reused;
                its user is gone or inactive; or its session was started under
                another credential epoch than the user's current one.
        """
        refresh_token = text_of(refresh_token, "refresh_token")
        now = self._clock.now()
        session = await self._current_session(refresh_token, now)
        user = await self._users.get(session.user_id)
        if user is None or not user.accepts_credentials_of(session.epoch):
            raise InvalidTokenError
        new_token = self._new_refresh_token(session.id)
        expires_at = min(now + self._refresh_ttl, session.created_at + self._max_age)
        if _matches(_token_hash(refresh_token), session.token_hash):
            rotated = session.rotated(
                token_hash=_token_hash(new_token), now=now, expires_at=expires_at
            )
        else:  # a retry within the reuse interval
            rotated = session.rotated_again(
                token_hash=_token_hash(new_token), now=now, expires_at=expires_at
            )
        if not await self._sessions.rotate(session, rotated):
            # Another refresh with this very token got there first: reuse.
            await self._revoke_reused(session, now)
            raise InvalidTokenError
        return TokenPair(
            access_token=self._access_token(user, rotated, now),
            refresh_token=new_token,
            expires_in=self._expires_in,
        )

    async def revoke(self, *, token: str) -> None:
        """Log out (RFC 7009): end the session of a refresh token, current or superseded.

        Unknown, malformed and already revoked tokens are ignored, as RFC 7009
        §2.2 asks. Access tokens already issued stay valid until they expire.
        """
        session_id = _session_id_of(text_of(token, "token"))
        if session_id is None:
            return
        session = await self._sessions.get(session_id)
        if session is None:
            return
        token_hash = _token_hash(token)
        known = [session.token_hash, *session.previous_hashes]
        if any(_matches(token_hash, stored) for stored in known) and await self._sessions.revoke(
            session.id, now=self._clock.now()
        ):
            await self._announce_revoked(session.user_id, session.id, "logout")

    async def authenticate(self, *, access_token: str) -> User:
        """The stored user an access token acts for.

        Raises:
            InvalidTokenError: The token is malformed, not ours, expired or of
                another type; or its user is gone, inactive, or has moved to
                another credential epoch since (password change, deactivation,
                "log out everywhere").
        """
        return (await self.authenticate_claims(access_token=access_token))[0]

    async def authenticate_claims(self, *, access_token: str) -> tuple[User, AccessClaims]:
        """The stored user an access token acts for, and the token's claims.

        Raises:
            InvalidTokenError: As :meth:`authenticate`.
        """
        access_token = text_of(access_token, "access_token")
        claims = self._verifier.verify(access_token, now=self._clock.now())
        user = await self._users.get(claims.subject)
        if user is None or not user.accepts_credentials_of(claims.epoch):
            raise InvalidTokenError
        return user, claims

    def jwks(self) -> dict[str, object]:
        """The public keys that verify access tokens, as an RFC 7517 JWK Set."""
        return self._public_keys.jwks()

    async def _current_session(self, refresh_token: str, now: datetime) -> Session:
        session_id = _session_id_of(refresh_token)
        session = None if session_id is None else await self._sessions.get(session_id)
        if session is None:
            raise InvalidTokenError
        token_hash = _token_hash(refresh_token)
        current = _matches(token_hash, session.token_hash)
        if not current and not self._retried_in_time(token_hash, session, now):
            if any(_matches(token_hash, stored) for stored in session.previous_hashes):
                await self._revoke_reused(session, now)
            raise InvalidTokenError
        if not session.is_live(now):
            raise InvalidTokenError
        return session

    def _retried_in_time(self, token_hash: str, session: Session, now: datetime) -> bool:
        """Whether a client retries a refresh whose answer it lost, within the reuse interval.

        Only the immediately previous token counts, and only within the
        interval after the rotation that superseded it (``last_used_at``).
        A thief holding it can rotate too within that window; the client's
        next refresh then presents a superseded token and revokes the
        session, as without the interval.
        """
        return (
            self._reuse_interval > timedelta(0)
            and bool(session.previous_hashes)
            and _matches(token_hash, session.previous_hashes[-1])
            and now - session.last_used_at <= self._reuse_interval
        )

    def _new_refresh_token(self, session_id: str) -> str:
        return f"{session_id}.{secrets.token_urlsafe(REFRESH_SECRET_BYTES)}"

    async def _revoke_reused(self, session: Session, now: datetime) -> None:
        await self._sessions.revoke(session.id, now=now)
        event = self._announcer.make(
            RefreshTokenReused, user_id=session.user_id, session_id=session.id
        )
        await self._announcer.announce([event])

    async def _end_sessions_over_cap(self, user: User, now: datetime) -> None:
        live = [
            session
            for session in await self._sessions.list_for_user(user.id)
            if session.is_live(now) and session.epoch == user.credential_epoch
        ]
        for oldest in live[: max(0, len(live) - self._max_sessions)]:
            if await self._sessions.revoke(oldest.id, now=now):
                await self._announce_revoked(user.id, oldest.id, "session_cap")

    async def _announce_revoked(self, user_id: UserId, session_id: str, reason: str) -> None:
        event = self._announcer.make(
            SessionRevoked, user_id=user_id, session_id=session_id, reason=reason
        )
        await self._announcer.announce([event])

    def _access_token(self, user: User, session: Session, now: datetime) -> str:
        claims = AccessClaims(
            subject=user.id,
            roles=[role.name for role in user.roles],
            issued_at=now,
            expires_at=now + self._access_ttl,
            token_id=self._ids.new_id(),
            session_id=session.id,
            epoch=session.epoch,
        )
        return self._signer.sign(claims)
