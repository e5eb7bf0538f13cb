"""Parsed foreign hashes: their cost, checked against limits, and their verification.

Each algorithm comes from a maintained library (bcrypt, argon2-cffi,
hashlib's PBKDF2 and scrypt); what is ours is reading the stored parameters
and the password transforms some systems apply first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Protocol

import argon2.low_level
import attrs
import bcrypt
from argon2.exceptions import InvalidHashError as Argon2InvalidHashError
from argon2.exceptions import VerificationError, VerifyMismatchError

from usercore.adapters.foreign_hashes.limits import HashLimits

#: A password transform applied before the algorithm (e.g. Django's SHA-256 before bcrypt).
Prepare = Callable[[bytes], bytes]

#: bcrypt reads at most this many bytes of a password; the libraries that made
#: these hashes dropped the rest, so verification does too.
BCRYPT_MAX_PASSWORD_BYTES = 72


def unchanged(password: bytes) -> bytes:
    """The password as it is."""
    return password


class ForeignHash(Protocol):
    """One stored hash, parsed."""

    def over_limits(self, limits: HashLimits) -> str | None:
        """Why verifying it would cost more than ``limits`` allow, or None."""
        ...

    def verify(self, password: bytes) -> bool:
        """Whether ``password`` matches; blocks the calling thread for the whole computation."""
        ...


@attrs.frozen
class BcryptHash:
    """A bcrypt hash (``$2a$``, ``$2b$``, ``$2y$``), after an optional password transform."""

    encoded: bytes
    rounds: int
    prepare: Prepare = unchanged

    def over_limits(self, limits: HashLimits) -> str | None:  # noqa: D102 - see ForeignHash
        if self.rounds > limits.bcrypt_rounds:
            return f"bcrypt cost {self.rounds} is above the limit {limits.bcrypt_rounds}"
        return None

    def verify(self, password: bytes) -> bool:  # noqa: D102
        secret = self.prepare(password)[:BCRYPT_MAX_PASSWORD_BYTES]
        try:
            return bcrypt.checkpw(secret, self.encoded)
        except ValueError:
            return False


@attrs.frozen
class Pbkdf2Hash:
    """PBKDF2-HMAC with a named digest (hashlib's, backed by OpenSSL)."""

    digest: str
    iterations: int
    salt: bytes
    expected: bytes = attrs.field(repr=False)
    prepare: Prepare = unchanged

    def over_limits(self, limits: HashLimits) -> str | None:  # noqa: D102
        if self.iterations > limits.pbkdf2_iterations:
            return (
                f"PBKDF2 with {self.iterations} iterations is above the limit "
                f"{limits.pbkdf2_iterations}"
            )
        return None

    def verify(self, password: bytes) -> bool:  # noqa: D102
        computed = hashlib.pbkdf2_hmac(
            self.digest, self.prepare(password), self.salt, self.iterations, len(self.expected)
        )
        return hmac.compare_digest(computed, self.expected)


@attrs.frozen
class Argon2Hash:
    """An argon2 hash of any variant, version and parameters, in the PHC string format."""

    encoded: bytes
    variant: argon2.low_level.Type
    memory_kib: int
    time_cost: int
    parallelism: int
    prepare: Prepare = unchanged

    def over_limits(self, limits: HashLimits) -> str | None:  # noqa: D102
        if self.memory_kib > limits.argon2_memory_kib:
            return (
                f"argon2 memory {self.memory_kib} KiB is above the limit "
                f"{limits.argon2_memory_kib} KiB"
            )
        if self.time_cost > limits.argon2_time_cost:
            return f"argon2 time cost {self.time_cost} is above the limit {limits.argon2_time_cost}"
        if self.parallelism > limits.argon2_parallelism:
            return (
                f"argon2 parallelism {self.parallelism} is above the limit "
                f"{limits.argon2_parallelism}"
            )
        return None

    def verify(self, password: bytes) -> bool:  # noqa: D102
        try:
            return argon2.low_level.verify_secret(
                self.encoded, self.prepare(password), self.variant
            )
        except (VerifyMismatchError, VerificationError, Argon2InvalidHashError):
            return False


@attrs.frozen
class ScryptHash:
    """scrypt (hashlib's, backed by OpenSSL)."""

    n: int
    r: int
    p: int
    salt: bytes
    expected: bytes = attrs.field(repr=False)
    prepare: Prepare = unchanged

    @property
    def work_kib(self) -> int:
        """The work it asks for: ``128·N·r`` bytes of memory, ``p`` times over, in KiB."""
        return 128 * self.n * self.r * self.p // 1024

    def over_limits(self, limits: HashLimits) -> str | None:  # noqa: D102
        if self.work_kib > limits.scrypt_memory_kib:
            return (
                f"scrypt N={self.n}, r={self.r}, p={self.p} ({self.work_kib} KiB of work) "
                f"is above the limit {limits.scrypt_memory_kib} KiB"
            )
        return None

    def verify(self, password: bytes) -> bool:  # noqa: D102
        # OpenSSL refuses above maxmem; its own need is a little over 128·N·r.
        maxmem = 2 * 128 * self.n * self.r + 1024 * 1024
        try:
            computed = hashlib.scrypt(
                self.prepare(password),
                salt=self.salt,
                n=self.n,
                r=self.r,
                p=self.p,
                maxmem=maxmem,
                dklen=len(self.expected),
            )
        except (ValueError, MemoryError):
            return False
        return hmac.compare_digest(computed, self.expected)
