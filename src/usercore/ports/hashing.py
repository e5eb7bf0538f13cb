"""The PasswordHasher port: slow, salted password hashing off the event loop."""

from __future__ import annotations

from typing import Protocol

from usercore.domain.errors import UserCoreError
from usercore.domain.passwords import PasswordHash


class HasherBusyError(UserCoreError):
    """Too many hashes are already waiting; try again shortly.

    A bounded queue keeps a flood of logins (with unknown emails, say) from
    making every request wait without limit: the excess is refused at once.

    Attributes:
        retry_after_seconds: A reasonable wait before trying again.
    """

    def __init__(self, retry_after_seconds: int = 1) -> None:
        super().__init__("too many password hashes are waiting; try again shortly")
        self.retry_after_seconds = retry_after_seconds


class UnsupportedHashError(UserCoreError):
    """A stored password hash this hasher can't verify: unknown, malformed or too costly.

    Attributes:
        reason: What is wrong with it, in words an operator can act on (never
            the hash itself).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PasswordHasher(Protocol):
    """Hashes and verifies passwords.

    Passwords arrive already NFC-normalised. Implementations run the work
    off the event loop, so other requests proceed while a hash is computed.
    ``hash`` and ``verify`` may raise :class:`HasherBusyError` when a bounded
    queue of waiting work is full; nothing was computed then.
    """

    async def hash(self, password: str) -> PasswordHash:
        """A new salted hash of ``password`` under the configured parameters."""
        ...

    async def verify(self, password_hash: PasswordHash, password: str) -> bool:
        """Whether ``password`` matches; False (never an error) for a malformed hash."""
        ...

    def needs_rehash(self, password_hash: PasswordHash) -> bool:
        """Whether the hash was made with other parameters than the configured ones."""
        ...

    def check_hash(self, password_hash: PasswordHash) -> None:
        """Return when :meth:`verify` can check passwords against ``password_hash``.

        For hashes brought from elsewhere (an import): parsing only, nothing
        is computed. A hash that passes verifies within the configured cost
        limits, so a login against it never hangs.

        Raises:
            UnsupportedHashError: Its format is unknown or malformed, or its
                cost parameters are above the configured limits.
        """
        ...
