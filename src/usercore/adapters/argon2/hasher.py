"""Argon2PasswordHasher: argon2id via argon2-cffi, computed on a bounded pool of threads."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import argon2
import attrs
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from usercore.domain.passwords import PasswordHash
from usercore.ports.hashing import PasswordHasher


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
    ``memory_cost_kib`` block in its malloc arena for good.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cpus or 1) // max(1, processes))


class Argon2PasswordHasher(PasswordHasher):
    """Hashes passwords with argon2id, off the event loop.

    At most ``concurrency`` hashes are computed at once (each holds
    ``memory_cost_kib`` of memory); a flood of logins queues behind them
    instead of exhausting memory. argon2-cffi releases the GIL while hashing,
    so the threads run in parallel and the event loop stays responsive.
    Call :meth:`close` to stop the threads.
    """

    def __init__(
        self, parameters: Argon2Parameters | None = None, *, concurrency: int | None = None
    ) -> None:
        self.parameters = parameters or Argon2Parameters()
        self._hasher = argon2.PasswordHasher(
            time_cost=self.parameters.time_cost,
            memory_cost=self.parameters.memory_cost_kib,
            parallelism=self.parameters.parallelism,
            type=argon2.Type.ID,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency or default_concurrency(), thread_name_prefix="usercore-argon2"
        )

    async def hash(self, password: str) -> PasswordHash:  # noqa: D102 - documented by the port
        encoded = _encode(password)
        loop = asyncio.get_running_loop()
        return PasswordHash(await loop.run_in_executor(self._executor, self._hasher.hash, encoded))

    async def verify(self, password_hash: PasswordHash, password: str) -> bool:  # noqa: D102
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self._verify, password_hash.value, _encode(password)
        )

    def needs_rehash(self, password_hash: PasswordHash) -> bool:  # noqa: D102
        try:
            return self._hasher.check_needs_rehash(password_hash.value)
        except (InvalidHashError, ValueError):
            return True

    def close(self) -> None:
        """Stop the hashing threads (waiting for running hashes)."""
        self._executor.shutdown(wait=True)

    def _verify(self, encoded_hash: str, password: bytes) -> bool:
        try:
            return self._hasher.verify(encoded_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _encode(password: str) -> bytes:
    # Lone surrogates can't be UTF-8; "surrogatepass" keeps them distinct and
    # deterministic instead of failing (the policy refuses them on set anyway).
    return password.encode("utf-8", "surrogatepass")
