"""Argon2PasswordHasher: argon2id via argon2-cffi, computed on a bounded pool of threads."""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

import argon2
import attrs
from argon2.exceptions import (
    HashingError,
    InvalidHashError,
    VerificationError,
    VerifyMismatchError,
)

from usercore.adapters.argon2.workarea import Argon2idHash, Cost, WorkAreas
from usercore.domain.passwords import PasswordHash
from usercore.ports.hashing import HasherBusyError, PasswordHasher, UnsupportedHashError

#: Salt and digest sizes, argon2-cffi's defaults (RFC 9106 recommends 16-byte salts).
SALT_BYTES = 16
DIGEST_BYTES = 32
#: The shortest salt and digest argon2 itself accepts.
_MIN_SALT_BYTES = 8
_MIN_DIGEST_BYTES = 4

_A = TypeVar("_A")
_T = TypeVar("_T")


@attrs.frozen
class Argon2Parameters:
    """Argon2id cost parameters. The defaults are OWASP's (m=19 MiB, t=2, p=1)."""

    memory_cost_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


class ForeignHashes(Protocol):
    """Hashes made by other systems, verified on this hasher's threads (blocking calls)."""

    def check(self, encoded: str) -> None:
        """Return when ``encoded`` can be verified; else raise ``UnsupportedHashError``."""
        ...

    def verify(self, encoded: str, password: bytes) -> bool:
        """Whether ``password`` matches ``encoded``; False for a hash ``check`` refuses."""
        ...


def default_concurrency(processes: int = 1) -> int:
    """How many hashes one of ``processes`` hashing processes runs at once by default.

    One hash per CPU across the processes: argon2 is CPU-bound, so more
    threads queue behind each other anyway, and every thread keeps a
    ``memory_cost_kib`` work area while hashes keep coming.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) // max(1, processes))


class Argon2PasswordHasher(PasswordHasher):
    """Hashes passwords with argon2id, off the event loop.

    At most ``concurrency`` hashes are computed at once (each holds
    ``memory_cost_kib`` of memory); a flood of logins queues behind them
    instead of exhausting memory, and beyond ``queue_limit`` waiting hashes
    further ones are refused at once with :class:`HasherBusyError`. argon2
    runs without the GIL, so the threads run in parallel and the event loop
    stays responsive. The work areas stay
    mapped while hashes keep coming and are returned to the OS once none has
    run for ``release_after`` seconds. Call :meth:`close` to stop the threads.

    Stored argon2 hashes costing more than ``max_cost`` (or than
    ``parameters``, whichever is more) are never computed: they verify as
    False and :meth:`check_hash` refuses them. Hashes of other formats go to
    ``foreign`` when given, on the same threads and under the same queue
    limit; without it, only argon2 hashes verify.
    """

    def __init__(
        self,
        parameters: Argon2Parameters | None = None,
        *,
        concurrency: int | None = None,
        queue_limit: int = 128,
        release_after: float = 2.0,
        max_cost: Argon2Parameters | None = None,
        foreign: ForeignHashes | None = None,
    ) -> None:
        self.parameters = parameters = parameters or Argon2Parameters()
        self._cost = Cost(parameters.memory_cost_kib, parameters.time_cost, parameters.parallelism)
        most = max_cost or Argon2Parameters(memory_cost_kib=262_144, time_cost=16, parallelism=16)
        self._max_cost = Cost(
            max(most.memory_cost_kib, parameters.memory_cost_kib),
            max(most.time_cost, parameters.time_cost),
            max(most.parallelism, parameters.parallelism),
        )
        self._foreign = foreign
        # argon2-cffi reads the cost of stored hashes (needs_rehash) and verifies
        # the hashes this class doesn't write itself (argon2i, argon2d, version 16).
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost_kib,
            parallelism=parameters.parallelism,
            type=argon2.Type.ID,
        )
        self.work_areas = WorkAreas()
        self._release_after = release_after
        self._running = 0
        self._release: asyncio.TimerHandle | None = None
        threads = concurrency or default_concurrency()
        self._max_in_flight = threads + queue_limit
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="usercore-argon2"
        )

    async def hash(self, password: str) -> PasswordHash:  # noqa: D102 - documented by the port
        salt = os.urandom(SALT_BYTES)
        return PasswordHash(await self._off_loop(self._hash, salt, _encode(password)))

    async def verify(self, password_hash: PasswordHash, password: str) -> bool:  # noqa: D102
        return await self._off_loop(self._verify, password_hash.value, _encode(password))

    def needs_rehash(self, password_hash: PasswordHash) -> bool:  # noqa: D102
        try:
            return self._hasher.check_needs_rehash(password_hash.value)
        except (InvalidHashError, ValueError):
            return True

    def check_hash(self, password_hash: PasswordHash) -> None:  # noqa: D102
        encoded = password_hash.value
        stored = Argon2idHash.decode(encoded)
        if stored is None:
            if self._foreign is not None:
                self._foreign.check(encoded)
                return
            cost = _other_argon2_cost(encoded)
            if cost is None:
                raise UnsupportedHashError("not an argon2 hash")
            stored = Argon2idHash(cost, b"-" * _MIN_SALT_BYTES, b"-" * _MIN_DIGEST_BYTES)
        if len(stored.salt) < _MIN_SALT_BYTES or len(stored.digest) < _MIN_DIGEST_BYTES:
            raise UnsupportedHashError("malformed argon2 hash: salt or digest too short")
        reason = self._over_limit(stored.cost)
        if reason is not None:
            raise UnsupportedHashError(reason)

    def close(self) -> None:
        """Stop the hashing threads (waiting for running hashes) and unmap the work areas."""
        if self._release is not None:
            self._release.cancel()
        self._executor.shutdown(wait=True)
        self.work_areas.release()

    async def _off_loop(
        self, compute: Callable[[_A, bytes], _T], subject: _A, password: bytes
    ) -> _T:
        if self._running >= self._max_in_flight:
            raise HasherBusyError
        loop = asyncio.get_running_loop()
        self._running += 1
        try:
            return await loop.run_in_executor(self._executor, compute, subject, password)
        finally:
            self._running -= 1
            if self._running == 0:
                # Restarted by every last-running hash: fires after a quiet spell.
                if self._release is not None:
                    self._release.cancel()
                self._release = loop.call_later(self._release_after, self._release_if_quiet)

    def _release_if_quiet(self) -> None:
        if self._running == 0:
            self.work_areas.release()

    def _hash(self, salt: bytes, password: bytes) -> str:
        digest = self.work_areas.derive(password, salt, self._cost, DIGEST_BYTES)
        if digest is None:
            raise HashingError("argon2 refused to hash (out of memory?)")
        return Argon2idHash(self._cost, salt, digest).encode()

    def _verify(self, encoded_hash: str, password: bytes) -> bool:
        stored = Argon2idHash.decode(encoded_hash)
        if stored is None:
            if self._foreign is not None:
                return self._foreign.verify(encoded_hash, password)
            return self._verify_other(encoded_hash, password)
        if self._over_limit(stored.cost) is not None:
            return False
        computed = self.work_areas.derive(password, stored.salt, stored.cost, len(stored.digest))
        return computed is not None and hmac.compare_digest(computed, stored.digest)

    def _over_limit(self, cost: Cost) -> str | None:
        most = self._max_cost
        if cost.memory_kib > most.memory_kib:
            return f"argon2 memory {cost.memory_kib} KiB is above the limit {most.memory_kib} KiB"
        if cost.time_cost > most.time_cost:
            return f"argon2 time cost {cost.time_cost} is above the limit {most.time_cost}"
        if cost.parallelism > most.parallelism:
            return f"argon2 parallelism {cost.parallelism} is above the limit {most.parallelism}"
        return None

    def _verify_other(self, encoded_hash: str, password: bytes) -> bool:
        cost = _other_argon2_cost(encoded_hash)
        if cost is None or self._over_limit(cost) is not None:
            return False
        try:
            return self._hasher.verify(encoded_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _other_argon2_cost(encoded_hash: str) -> Cost | None:
    """The cost of an argon2 hash of another variant or version, None if it is none."""
    try:
        found = argon2.extract_parameters(encoded_hash)
    except InvalidHashError:
        return None
    return Cost(found.memory_cost, found.time_cost, found.parallelism)


def _encode(password: str) -> bytes:
    # Lone surrogates can't be UTF-8; "surrogatepass" keeps them distinct and
    # deterministic instead of failing (the policy refuses them on set anyway).
    return password.encode("utf-8", "surrogatepass")
