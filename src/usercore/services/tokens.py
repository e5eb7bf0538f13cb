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

Refresh tokens slide: each one is valid ``refresh_token_ttl`` from when it
was issued, so a session lives while it is used and ends after that long idle.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import attrs

from usercore.domain.errors import InvalidCredentialsError, InvalidTokenError, UserNotFoundError
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
    issued (or whose session began) before ``User.sessions_valid_after``, which
    a password change or a deactivation moves forward.
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
    ) -> None:
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

    async def password_grant(self, *, email: str, password: str) -> TokenPair:
        """Log in: check the password and start a new session (RFC 6749 §4.3).

        Raises:
            InvalidCredentialsError: Unknown email, wrong password or inactive user.
            ValidationError: The password is longer than any account can have.
        """
        user = await self._auth.authenticate(email=email, password=password)
        now = self._clock.now()
        session_id = self._ids.new_id()
        refresh_token = self._new_refresh_token(session_id)
        session = Session.start(
            id=session_id,
            user_id=user.id,
            token_hash=_token_hash(refresh_token),
            now=now,
            expires_at=now + self._refresh_ttl,
        )
        try:
            await self._sessions.add(session)
        except UserNotFoundError:
            # Deleted between the password check and now.
            raise InvalidCredentialsError from None
        return TokenPair(
            access_token=self._access_token(user, now),
            refresh_token=refresh_token,
            expires_in=self._expires_in,
        )

    async def refresh_grant(self, *, refresh_token: str) -> TokenPair:
        """Exchange a refresh token for new tokens (RFC 6749 §6); the old one is used up.

        Presenting a token that was already exchanged revokes its whole session.

        Raises:
            InvalidTokenError: The token is unknown, expired, revoked or reused;
                its user is gone or inactive; or its session began before the
                user's ``sessions_valid_after``.
        """
        now = self._clock.now()
        session = await self._current_session(refresh_token, now)
        user = await self._users.get(session.user_id)
        if user is None or not user.accepts_tokens_issued_at(session.created_at):
            raise InvalidTokenError
        new_token = self._new_refresh_token(session.id)
        rotated = session.rotated(
            token_hash=_token_hash(new_token), now=now, expires_at=now + self._refresh_ttl
        )
        if not await self._sessions.rotate(session, rotated):
            # Another refresh with this very token got there first: reuse.
            await self._sessions.revoke(session.id, now=now)
            raise InvalidTokenError
        return TokenPair(
            access_token=self._access_token(user, now),
            refresh_token=new_token,
            expires_in=self._expires_in,
        )

    async def revoke(self, *, token: str) -> None:
        """Log out (RFC 7009): end the session of a refresh token, current or superseded.

        Unknown, malformed and already revoked tokens are ignored, as RFC 7009
        §2.2 asks. Access tokens already issued stay valid until they expire.
        """
        session_id = _session_id_of(token)
        if session_id is None:
            return
        session = await self._sessions.get(session_id)
        if session is None:
            return
        token_hash = _token_hash(token)
        known = [session.token_hash, *session.previous_hashes]
        if any(_matches(token_hash, stored) for stored in known):
            await self._sessions.revoke(session.id, now=self._clock.now())

    async def authenticate(self, *, access_token: str) -> User:
        """The stored user an access token acts for.

        Raises:
            InvalidTokenError: The token is malformed, not ours, expired or of
                another type; or its user is gone, inactive, or voided tokens
                issued before it (password change, deactivation).
        """
        claims = self._verifier.verify(access_token, now=self._clock.now())
        user = await self._users.get(claims.subject)
        if user is None or not user.accepts_tokens_issued_at(claims.issued_at):
            raise InvalidTokenError
        return user

    def jwks(self) -> dict[str, object]:
        """The public keys that verify access tokens, as an RFC 7517 JWK Set."""
        return self._public_keys.jwks()

    async def _current_session(self, refresh_token: str, now: datetime) -> Session:
        session_id = _session_id_of(refresh_token)
        session = None if session_id is None else await self._sessions.get(session_id)
        if session is None:
            raise InvalidTokenError
        token_hash = _token_hash(refresh_token)
        if not _matches(token_hash, session.token_hash):
            if any(_matches(token_hash, stored) for stored in session.previous_hashes):
                await self._sessions.revoke(session.id, now=now)
            raise InvalidTokenError
        if not session.is_live(now):
            raise InvalidTokenError
        return session

    def _new_refresh_token(self, session_id: str) -> str:
        return f"{session_id}.{secrets.token_urlsafe(REFRESH_SECRET_BYTES)}"

    def _access_token(self, user: User, now: datetime) -> str:
        claims = AccessClaims(
            subject=user.id,
            roles=[role.name for role in user.roles],
            issued_at=now,
            expires_at=now + self._access_ttl,
            token_id=self._ids.new_id(),
        )
        return self._signer.sign(claims)
