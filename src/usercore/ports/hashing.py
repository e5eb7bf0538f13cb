"""The PasswordHasher port: slow, salted password hashing off the event loop."""

from __future__ import annotations

from typing import Protocol

from usercore.domain.passwords import PasswordHash


class PasswordHasher(Protocol):
    """Hashes and verifies passwords.

    Passwords arrive already NFC-normalised. Implementations run the work
    off the event loop, so other requests proceed while a hash is computed.
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
