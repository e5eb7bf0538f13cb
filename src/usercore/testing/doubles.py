"""Deterministic stand-ins for the time, id, hashing and strength ports, for tests only."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from usercore.domain.ids import uuid7_from_parts
from usercore.domain.passwords import PasswordHash, StrengthEstimate
from usercore.domain.timestamps import utc_millis
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.hashing import PasswordHasher, UnsupportedHashError
from usercore.ports.strength import PasswordStrengthEstimator

_FAST_PREFIX = "$fast$"


class FastTestHasher(PasswordHasher):
    """A deterministic, fast password hasher. NOT FOR PRODUCTION: it is not slow on purpose.

    Hashes look like ``$fast$c=<cost>$<salt>$<digest>`` so that
    :meth:`needs_rehash` can be exercised by configuring another ``cost``.
    Each instance counts its calls, so tests can assert how often a use case
    hashed or verified.

    Attributes:
        hash_calls: How many times :meth:`hash` ran.
        verify_calls: How many times :meth:`verify` ran.
    """

    def __init__(self, cost: int = 1) -> None:
        self.cost = cost
        self.hash_calls = 0
        self.verify_calls = 0
        self._salts = itertools.count()

    async def hash(self, password: str) -> PasswordHash:  # noqa: D102 - documented by the port
        self.hash_calls += 1
        salt = f"{next(self._salts):08x}"
        return PasswordHash(f"{_FAST_PREFIX}c={self.cost}${salt}${_digest(salt, password)}")

    async def verify(self, password_hash: PasswordHash, password: str) -> bool:  # noqa: D102
        self.verify_calls += 1
        parts = password_hash.value.split("$")
        if len(parts) != 5 or not password_hash.value.startswith(_FAST_PREFIX):
            return False
        salt, digest = parts[3], parts[4]
        return hmac.compare_digest(digest, _digest(salt, password))

    def needs_rehash(self, password_hash: PasswordHash) -> bool:  # noqa: D102
        return not password_hash.value.startswith(f"{_FAST_PREFIX}c={self.cost}$")

    def check_hash(self, password_hash: PasswordHash) -> None:  # noqa: D102
        parts = password_hash.value.split("$")
        if len(parts) != 5 or not password_hash.value.startswith(_FAST_PREFIX):
            raise UnsupportedHashError("not a $fast$ test hash")


def _digest(salt: str, password: str) -> str:
    data = f"{salt}:{password}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


class ManualClock(Clock):
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = utc_millis(start or datetime(2026, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:  # noqa: D102 - documented by the port
        return self._now

    def advance(self, seconds: float = 1.0) -> datetime:
        """Move the clock forward and return the new time."""
        self._now = utc_millis(self._now + timedelta(seconds=seconds))
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment`` (may go backwards, like a real wall clock can)."""
        self._now = utc_millis(moment)


class SequentialIds(IdFactory):
    """UUIDv7 ids from a clock and a counter: reproducible, strictly increasing."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self._counter = itertools.count(1)

    def new_id(self) -> str:  # noqa: D102 - documented by the port
        ms = int(self._clock.now().timestamp() * 1000) if self._clock else 1_767_225_600_000
        return str(uuid7_from_parts(ms, next(self._counter).to_bytes(10, "big")))


class FixedStrengthEstimator(PasswordStrengthEstimator):
    """Rates every password the same. NOT FOR PRODUCTION: it looks at nothing.

    For tests of anything but password strength, where the length and
    context-word rules are enough; ``score=0`` makes every password weak.

    Attributes:
        calls: How many estimates were asked for.
    """

    def __init__(self, score: int = 4) -> None:
        self._estimate = StrengthEstimate(
            score=score, warning="" if score >= 3 else "This test rates every password weak."
        )
        self.calls = 0

    async def estimate(self, password: str, *, context: Sequence[str]) -> StrengthEstimate:  # noqa: D102 - documented by the port
        self.calls += 1
        return self._estimate
