"""Authentication: checking an email and password, at the same cost whatever the outcome."""

from __future__ import annotations

import secrets
from typing import NoReturn

from usercore.domain.email import Email
from usercore.domain.errors import (
    InvalidCredentialsError,
    ValidationError,
    VersionConflictError,
)
from usercore.domain.events import LoginFailed
from usercore.domain.passwords import PasswordHash, normalize_password
from usercore.domain.user import User
from usercore.ports.clock import Clock
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services import security
from usercore.services.announce import Announcer
from usercore.services.arguments import text_of
from usercore.services.passwords import check_password_length, verify_password
from usercore.services.security import SecurityEvent
from usercore.services.throttle import LoginThrottle, claim_attempt


class AuthService:
    """Password authentication.

    Unknown emails, wrong passwords and inactive users fail alike, after one
    password verification each, so neither the answer nor its timing tells
    which emails have accounts. Consecutive failures for one email (account
    or not) are throttled by ``throttle``; None turns throttling off (for
    tests, or an application that throttles logins in front of usercore).
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        clock: Clock,
        throttle: LoginThrottle | None,
        announcer: Announcer | None = None,
    ) -> None:
        self._announcer = announcer if announcer is not None else Announcer(clock=clock)
        self._users = users
        self._hasher = hasher
        self._clock = clock
        self._throttle = throttle
        self._dummy_hash: PasswordHash | None = None

    async def authenticate(self, *, email: str, password: str) -> User:
        """The active user with this email and password.

        When the stored hash was made with other parameters than the hasher's
        current ones, the password is re-hashed and stored (only ever after a
        successful check).

        Raises:
            InvalidCredentialsError: Unknown email, wrong password or inactive user.
            ThrottledError: Too many consecutive failures for this email; no
                password was checked.
            ValidationError: The password is longer than any account can have.
            HasherBusyError: Too many hashes are waiting.
        """
        email, password = text_of(email, "email"), text_of(password, "password")
        check_password_length(password)
        await claim_attempt(self._throttle, email)
        try:
            user = await self._users.get_by_email(Email.parse(email))
        except ValidationError:
            user = None
        if user is None:
            await verify_password(self._hasher, await self._dummy(), password)
            # No user, so no event: one per guessed address would let anyone
            # fill the outbox. The log line is the record.
            security.record(SecurityEvent.LOGIN_FAILED, reason="unknown_email")
            raise InvalidCredentialsError
        if not await verify_password(self._hasher, user.password_hash, password):
            await self._failed(user, "wrong_password")
        if not user.is_active:
            await self._failed(user, "inactive")
        if self._throttle is not None:
            await self._throttle.clear(email=user.email)
        if self._hasher.needs_rehash(user.password_hash):
            user = await self._rehash(user, password)
        return user

    async def _failed(self, user: User, reason: str) -> NoReturn:
        event = self._announcer.make(LoginFailed, user_id=user.id, reason=reason)
        await self._announcer.announce([event])
        raise InvalidCredentialsError

    async def _rehash(self, user: User, password: str) -> User:
        rehashed = user.with_rehashed_password(
            await self._hasher.hash(normalize_password(password)), now=self._clock.now()
        )
        try:
            await self._users.update(rehashed, expected_version=user.version)
        except VersionConflictError:
            # Someone changed the user meanwhile; the next login rehashes.
            return user
        return rehashed

    async def _dummy(self) -> PasswordHash:
        # A hash of a password nobody knows, made with the current parameters,
        # so verifying against it costs what a real verification costs.
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash(secrets.token_urlsafe(32))
        return self._dummy_hash
