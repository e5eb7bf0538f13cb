from __future__ import annotations

import asyncio
import os
import threading
import time

import pytest

from usercore.adapters.argon2 import Argon2Parameters, Argon2PasswordHasher, default_concurrency
from usercore.domain import PasswordHash

FAST = Argon2Parameters(memory_cost_kib=1024, time_cost=1, parallelism=1)


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher()


async def test_writes_argon2id_with_owasp_parameters_by_default(
    hasher: Argon2PasswordHasher,
) -> None:
    encoded = (await hasher.hash("correct horse battery staple")).value
    algorithm, version, params, salt, digest = encoded.split("$")[1:]
    assert (algorithm, version, params) == ("argon2id", "v=19", "m=19456,t=2,p=1")
    assert salt
    assert digest
    hasher.close()


async def test_verifies_only_the_right_password() -> None:
    hasher = Argon2PasswordHasher(FAST)
    stored = await hasher.hash("pässwörd with ümlauts")
    assert await hasher.verify(stored, "pässwörd with ümlauts")
    assert not await hasher.verify(stored, "pässwörd with ümlaut")
    assert not await hasher.verify(PasswordHash("not a hash"), "anything")
    hasher.close()


async def test_salts_every_hash() -> None:
    hasher = Argon2PasswordHasher(FAST)
    assert await hasher.hash("same") != await hasher.hash("same")
    hasher.close()


async def test_needs_rehash_when_parameters_differ() -> None:
    weak, strong = Argon2PasswordHasher(FAST), Argon2PasswordHasher()
    stored = await weak.hash("password")
    assert strong.needs_rehash(stored)
    assert not weak.needs_rehash(stored)
    assert strong.needs_rehash(PasswordHash("$fast$c=1$00$00"))
    weak.close()
    strong.close()


async def test_hashing_runs_off_the_event_loop(hasher: Argon2PasswordHasher) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    await asyncio.gather(*(hasher.hash(f"password {i}") for i in range(4)))
    elapsed = time.perf_counter() - started
    task.cancel()
    # The loop kept ticking while four 19 MiB hashes ran on worker threads.
    assert ticks >= elapsed / 0.001 / 10
    hasher.close()


async def test_bounds_how_many_hashes_run_at_once() -> None:
    hasher = Argon2PasswordHasher(FAST, concurrency=2)
    running = 0
    peak = 0
    lock = threading.Lock()
    real = hasher._hasher

    class CountingArgon2:
        def hash(self, password: bytes) -> str:
            nonlocal running, peak
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.02)
            with lock:
                running -= 1
            return real.hash(password)

    hasher._hasher = CountingArgon2()  # type: ignore[assignment]
    await asyncio.gather(*(hasher.hash(str(i)) for i in range(10)))
    assert peak == 2
    hasher.close()


def test_default_concurrency_spreads_the_cpus_over_the_workers() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert default_concurrency() == cpus
    assert default_concurrency(cpus) == 1
    assert default_concurrency(cpus * 4) == 1
