"""The hash-bound ceiling: argon2id verifies per second, in process, with no server at all.

A login verifies one hash and a registration computes one; neither can go
faster than this, with the same parameters and the same number of processes.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor

from bench.database import PASSWORD, argon2_hasher


def _verify_rate(seconds: float, encoded: str) -> float:
    hasher = argon2_hasher()
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        hasher.verify(encoded, PASSWORD)
        done += 1
    return done / (time.perf_counter() - started)


def argon2_verify_rate(processes: int, seconds: float, encoded: str) -> float:
    """Verifies per second summed over ``processes`` processes, each verifying in a loop."""
    with ProcessPoolExecutor(processes) as pool:
        return sum(pool.map(_verify_rate, [seconds] * processes, [encoded] * processes))
