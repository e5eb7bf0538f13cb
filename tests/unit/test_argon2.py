from __future__ import annotations

import asyncio
import errno
import os
import threading
import time

import argon2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usercore.adapters.argon2 import (
    Argon2Parameters,
    Argon2PasswordHasher,
    default_concurrency,
    workarea,
)
from usercore.adapters.argon2.workarea import Cost, WorkAreas
from usercore.domain import PasswordHash
from usercore.ports.hashing import HasherBusyError

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
    real = hasher.work_areas.derive

    def counting_derive(password: bytes, salt: bytes, cost: Cost, length: int) -> bytes | None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return real(password, salt, cost, length)

    hasher.work_areas.derive = counting_derive  # type: ignore[method-assign]
    await asyncio.gather(*(hasher.hash(str(i)) for i in range(10)))
    assert peak == 2
    hasher.close()


async def test_refuses_hashes_beyond_the_queue_limit_at_once() -> None:
    # A flood (e.g. logins with unknown emails) must not make everyone wait.
    hasher = Argon2PasswordHasher(FAST, concurrency=1, queue_limit=2)
    release = threading.Event()
    real = hasher.work_areas.derive

    def held_derive(password: bytes, salt: bytes, cost: Cost, length: int) -> bytes | None:
        release.wait(timeout=10)
        return real(password, salt, cost, length)

    hasher.work_areas.derive = held_derive  # type: ignore[method-assign]
    waiting = [asyncio.ensure_future(hasher.hash(str(i))) for i in range(3)]  # 1 runs, 2 wait
    await asyncio.sleep(0.05)
    with pytest.raises(HasherBusyError) as busy:
        await hasher.verify(PasswordHash("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA"), "x")
    assert busy.value.retry_after_seconds >= 1
    release.set()
    assert len(await asyncio.gather(*waiting)) == 3
    assert await hasher.hash("room again")  # the queue drained
    hasher.close()


def test_default_concurrency_spreads_the_cpus_over_the_workers() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert default_concurrency() == cpus
    assert default_concurrency(cpus) == 1
    assert default_concurrency(cpus * 4) == 1


# --- interchangeable with argon2-cffi: the hashes are the PHC strings argon2 writes itself

REFERENCE = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
passwords = st.text(st.characters(codec="utf-8"), max_size=64)


@settings(max_examples=25, deadline=None)
@given(password=passwords)
async def test_argon2_cffi_verifies_our_hashes_and_we_verify_its(password: str) -> None:
    hasher = Argon2PasswordHasher(FAST)
    ours = await hasher.hash(password)
    assert REFERENCE.verify(ours.value, password)
    theirs = PasswordHash(REFERENCE.hash(password))
    assert await hasher.verify(theirs, password)
    assert not await hasher.verify(theirs, password + "x")
    hasher.close()


@pytest.mark.parametrize("variant", [argon2.Type.I, argon2.Type.D])
async def test_verifies_other_argon2_variants_through_argon2_cffi(variant: argon2.Type) -> None:
    hasher = Argon2PasswordHasher(FAST)
    legacy = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=variant)
    stored = PasswordHash(legacy.hash("old password"))
    assert await hasher.verify(stored, "old password")
    assert not await hasher.verify(stored, "old passwort")
    assert hasher.needs_rehash(stored)
    hasher.close()


async def test_verifies_a_hash_with_other_costs_by_its_own_costs() -> None:
    hasher = Argon2PasswordHasher(FAST)
    older = argon2.PasswordHasher(time_cost=2, memory_cost=2048, parallelism=2, salt_len=8)
    stored = PasswordHash(older.hash("password"))
    assert await hasher.verify(stored, "password")
    hasher.close()


@pytest.mark.parametrize(
    "broken",
    [
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ",
        "$argon2id$v=19$m=1024,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=lots,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$c2Fs!HNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$c2E$aGFzaGhhc2hoYXNoaGFzaA",  # salt too short
        "$argon2id$v=19$m=1024,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=-1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$",
    ],
)
async def test_a_broken_stored_hash_verifies_nothing(broken: str) -> None:
    hasher = Argon2PasswordHasher(FAST)
    assert not await hasher.verify(PasswordHash(broken), "password")
    hasher.close()


# --- the work areas: reused while hashing goes on, unmapped once it stops

FAST_BLOCK = FAST.memory_cost_kib * 1024


async def test_keeps_one_work_area_per_thread_while_hashes_keep_coming() -> None:
    hasher = Argon2PasswordHasher(FAST, concurrency=2, release_after=60)
    for round_ in range(3):
        await asyncio.gather(*(hasher.hash(f"password {round_} {i}") for i in range(6)))
        assert FAST_BLOCK <= hasher.work_areas.mapped_bytes <= 2 * FAST_BLOCK
    hasher.close()
    assert hasher.work_areas.mapped_bytes == 0


async def test_returns_the_work_areas_once_hashing_has_been_quiet() -> None:
    hasher = Argon2PasswordHasher(FAST, release_after=0.05)
    stored = await hasher.hash("password")
    assert await hasher.verify(stored, "password")
    assert hasher.work_areas.mapped_bytes == FAST_BLOCK
    await asyncio.sleep(0.2)
    assert hasher.work_areas.mapped_bytes == 0
    assert await hasher.verify(stored, "password")  # and maps a fresh one when needed
    hasher.close()


async def test_a_hash_still_running_keeps_the_work_areas() -> None:
    hasher = Argon2PasswordHasher(FAST, concurrency=1, release_after=0.01)
    slow = Argon2PasswordHasher(
        Argon2Parameters(memory_cost_kib=8192, time_cost=40), concurrency=1, release_after=0.01
    )
    quick = hasher.hash("quick")
    long_running = asyncio.ensure_future(slow.hash("long"))
    await quick
    await asyncio.sleep(0.05)
    assert hasher.work_areas.mapped_bytes == 0  # its own hashing went quiet
    assert not long_running.done()
    assert slow.work_areas.mapped_bytes == 8192 * 1024  # lent to the running hash
    assert slow.work_areas.release() == 0  # and never unmapped under it
    await long_running
    hasher.close()
    slow.close()


def test_work_areas_report_an_allocation_failure_as_no_digest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_memory(size: int) -> None:
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    monkeypatch.setattr(workarea, "_Block", no_memory)
    areas = WorkAreas()
    assert areas.derive(b"password", b"saltsaltsalt", Cost(1024, 1, 1), 32) is None
    assert areas.mapped_bytes == 0
