"""The two zxcvbn packages side by side: time per estimate, and memory after the first one.

Run ``python -m bench.strength`` (with the ``bench`` extra installed). Each
package is measured in a fresh interpreter of its own, so neither pays for
the other's import, and then usercore's adapter on long and crafted
passwords; the numbers go to docs/passwords.md.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable

PACKAGES = ("zxcvbn", "zxcvbn_rs_py")
#: usercore's adapter: zxcvbn-rs-py on at most two 32-character windows.
ADAPTER = "usercore"
LENGTHS = (15, 24, 32, 48, 64)
#: Every character zxcvbn reads as a substitution ("4" for "a"...): its worst case,
#: since each combination of readings is matched against every dictionary again.
_LEET = "4@8({[<3%6!1|7+0$592"
_WORDS = [
    "tangerine",
    "rocket",
    "harbour",
    "quietly",
    "violet",
    "lantern",
    "orbit",
    "meadow",
    "copper",
    "falcon",
    "pickle",
    "saturn",
    "cobalt",
    "whisper",
    "juniper",
    "marble",
    "nimbus",
    "thistle",
]
#: Each timing is the median of this many estimates, or of as many as fit in _BUDGET_S.
_REPEATS = 15
_BUDGET_S = 2.0


def _samples(length: int, rng: random.Random) -> dict[str, str]:
    printable = string.ascii_letters + string.digits + string.punctuation
    phrase = ""
    while len(phrase) < length:
        phrase += rng.choice(_WORDS) + " "
    return {
        "random": "".join(rng.choice(printable) for _ in range(length)),
        "passphrase": phrase[:length],
        "repeated": ("passwordp@ssw0rd" * 70)[:length],
        "unicode": "".join(chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(length)),
        "l33t (worst case)": (_LEET * 4)[:length],
    }


def _estimator(package: str) -> Callable[[str], int]:
    if package == "zxcvbn":
        from zxcvbn import zxcvbn

        return lambda password: int(zxcvbn(password, ["bob@example.com"], 10_000)["score"])
    from zxcvbn_rs_py import zxcvbn as rs_zxcvbn

    return lambda password: rs_zxcvbn(password, ["bob@example.com"]).score


def _rss() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def _ms_per_estimate(estimate: Callable[[str], int], password: str) -> float:
    times: list[float] = []
    deadline = time.perf_counter() + _BUDGET_S
    while len(times) < _REPEATS and (len(times) < 3 or time.perf_counter() < deadline):
        started = time.perf_counter()
        estimate(password)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(package: str) -> dict[str, object]:
    """One package's numbers, measured in this process (call it in a fresh one)."""
    before = _rss()
    started = time.perf_counter()
    estimate = _estimator(package)
    estimate("tangerine rocket harbour")
    first_ms = (time.perf_counter() - started) * 1000
    after_first = _rss()
    rng = random.Random(2024)
    timings: dict[str, dict[str, float]] = {}
    for length in LENGTHS:
        for kind, password in _samples(length, rng).items():
            timings.setdefault(kind, {})[str(length)] = _ms_per_estimate(estimate, password)
    return {
        "package": package,
        "first_estimate_ms": first_ms,
        "rss_growth_mib_first_estimate": (after_first - before) / 2**20,
        "rss_growth_mib_after_all": (_rss() - before) / 2**20,
        "ms_per_estimate": timings,
    }


def measure_adapter() -> dict[str, object]:
    """The adapter's time per estimate on long and crafted passwords, in this process."""
    import asyncio

    from usercore.adapters.zxcvbn import ZxcvbnStrengthEstimator

    estimator = ZxcvbnStrengthEstimator()
    rng = random.Random(2024)
    printable = string.ascii_letters + string.digits + string.punctuation
    cases = {
        "l33t (worst case), 64": (_LEET * 4)[:64],
        "l33t (worst case), 1024": (_LEET * 52)[:1024],
        "weak start, l33t end, 1024": "a" * 992 + (_LEET * 2)[:32],
        "random, 1024": "".join(rng.choice(printable) for _ in range(1024)),
        "passphrase, 40": "correct horse battery staple violet moon",
    }

    def estimate(password: str) -> int:
        return asyncio.run(estimator.estimate(password, context=["bob@example.com"])).score

    estimate("tangerine rocket harbour")
    return {
        "package": ADAPTER,
        "ms_per_estimate": {kind: _ms_per_estimate(estimate, pw) for kind, pw in cases.items()},
    }


def main() -> None:
    """Measure every package in its own interpreter and print a JSON line for each."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--package", choices=[*PACKAGES, ADAPTER], help="measure in this process only"
    )
    args = parser.parse_args()
    if args.package == ADAPTER:
        print(json.dumps(measure_adapter()))
        return
    if args.package:
        print(json.dumps(measure(args.package)))
        return
    for package in [*PACKAGES, ADAPTER]:
        subprocess.run([sys.executable, "-m", "bench.strength", "--package", package], check=True)


if __name__ == "__main__":
    main()
