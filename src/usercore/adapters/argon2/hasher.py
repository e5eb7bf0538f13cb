"""Argon2PasswordHasher: argon2id via argon2-cffi, computed on a bounded pool of threads."""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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
from usercore.ports.hashing import HasherBusyError, PasswordHasher

#: Salt and digest sizes, argon2-cffi's defaults (RFC 9106 recommends 16-byte salts).
SALT_BYTES = 16
DIGEST_BYTES = 32

_A = TypeVar("_A")
_T = TypeVar("_T")


@attrs.frozen
class Argon2Parameters:
    """Argon2id cost parameters. The defaults are OWASP's (m=19 MiB, t=2, p=1)."""

    memory_cost_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


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
    """

    def __init__(
        self,
        parameters: Argon2Parameters | None = None,
        *,
        concurrency: int | None = None,
        queue_limit: int = 128,
        release_after: float = 2.0,
    ) -> None:
        self.parameters = parameters = parameters or Argon2Parameters()
        self._cost = Cost(parameters.memory_cost_kib, parameters.time_cost, parameters.parallelism)
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
            return self._verify_other(encoded_hash, password)
        computed = self.work_areas.derive(password, stored.salt, stored.cost, len(stored.digest))
        return computed is not None and hmac.compare_digest(computed, stored.digest)

    def _verify_other(self, encoded_hash: str, password: bytes) -> bool:
        try:
            return self._hasher.verify(encoded_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _encode(password: str) -> bytes:
    # Lone surrogates can't be UTF-8; "surrogatepass" keeps them distinct and
    # deterministic instead of failing (the policy refuses them on set anyway).
    return password.encode("utf-8", "surrogatepass")
