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
