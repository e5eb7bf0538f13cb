"""Login sessions: one per login, holding the refresh-token rotation family."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from usercore.domain.ids import UserId
from usercore.domain.timestamps import utc_millis

#: The longest user agent a session keeps; the rest is cut off (it is a hint
#: for a person reading their session list, not an identifier).
MAX_USER_AGENT_LENGTH = 256
#: How many superseded refresh-token hashes a session remembers for reuse
#: detection. A reused token older than this is refused without revoking the
#: session; the bound keeps a long-lived session's record small.
MAX_PREVIOUS_HASHES = 64


def _hash_tuple(hashes: Iterable[str]) -> tuple[str, ...]:
    return tuple(hashes)


def _user_agent(value: str) -> str:
    # Printable text only: it is shown back to the user and written to logs.
    return "".join(char for char in value if char.isprintable())[:MAX_USER_AGENT_LENGTH]


def _optional_utc_millis(moment: datetime | None) -> datetime | None:
    return None if moment is None else utc_millis(moment)


@attrs.frozen
class Session:
    """A login session (a refresh-token rotation family).

    Only hashes of refresh tokens are kept. Each refresh replaces the current
    hash and remembers the old one, so a token presented twice is recognised
    as reuse and the whole session can be revoked.

    Attributes:
        id: The session id (a UUIDv7 string).
        token_hash: Hash of the refresh token that is valid now.
        previous_hashes: Hashes of superseded tokens, oldest first, at most
            :data:`MAX_PREVIOUS_HASHES`.
        generation: How many times the token was rotated (0 for a new session).
        epoch: The user's credential epoch at login; the session acts for the
            user only while it is the user's current one
            (:meth:`User.accepts_credentials_of`).
        user_agent: The client's ``User-Agent`` at login, printable and cut
            to :data:`MAX_USER_AGENT_LENGTH` characters; empty when unknown.
        revoked_at: When the session was revoked, or None while it is not.
    """

    id: str
    user_id: UserId
    token_hash: str = attrs.field(repr=False)
    previous_hashes: tuple[str, ...] = attrs.field(converter=_hash_tuple, repr=False)
    generation: int
    created_at: datetime = attrs.field(converter=utc_millis)
    last_used_at: datetime = attrs.field(converter=utc_millis)
    expires_at: datetime = attrs.field(converter=utc_millis)
    epoch: int
    user_agent: str = attrs.field(converter=_user_agent)
    revoked_at: datetime | None = attrs.field(default=None, converter=_optional_utc_millis)

    @classmethod
    def start(
        cls,
        *,
        id: str,
        user_id: UserId,
        token_hash: str,
        now: datetime,
        expires_at: datetime,
        epoch: int,
        user_agent: str = "",
    ) -> Session:
        """A new session whose current refresh token hashes to ``token_hash``.

        ``epoch`` is the credential epoch of the user as read before the
        password was checked, never a later one.
        """
        return cls(
            id=id,
            user_id=user_id,
            token_hash=token_hash,
            previous_hashes=(),
            generation=0,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
            epoch=epoch,
            user_agent=user_agent,
        )

    def is_live(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        return self.revoked_at is None and now < self.expires_at

    def rotated(self, *, token_hash: str, now: datetime, expires_at: datetime) -> Session:
        """The next generation, whose current token hashes to ``token_hash``."""
        previous = (*self.previous_hashes, self.token_hash)[-MAX_PREVIOUS_HASHES:]
        return attrs.evolve(
            self,
            token_hash=token_hash,
            previous_hashes=previous,
            generation=self.generation + 1,
            last_used_at=now,
            expires_at=expires_at,
        )

    def rotated_again(self, *, token_hash: str, now: datetime, expires_at: datetime) -> Session:
        """The next generation for a client that presents the previous token again.

        That client never received the current token (the answer to its
        refresh was lost): the current token is superseded, but ranked before
        the previous one, so the previous token stays the one a retry may
        present and the never-seen one counts as reuse like any older one.
        """
        *older, previous = self.previous_hashes
        hashes = (*older, self.token_hash, previous)[-MAX_PREVIOUS_HASHES:]
        return attrs.evolve(
            self,
            token_hash=token_hash,
            previous_hashes=hashes,
            generation=self.generation + 1,
            last_used_at=now,
            expires_at=expires_at,
        )

    def revoked(self, *, now: datetime) -> Session:
        """This session, revoked at ``now`` (unchanged if already revoked)."""
        return self if self.revoked_at is not None else attrs.evolve(self, revoked_at=now)
