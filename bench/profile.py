"""Profile usercore under load: py-spy samples one worker (GIL holders) while wrk loads it.

    .venv/bin/python -m bench.profile get_me [--seconds 10] [--users 1000]

Starts usercore alone (one worker) on a fresh PostgreSQL database, drives the
scenario with wrk, and prints where the worker's time goes: the functions
with the most samples, inclusive and self, and the raw collapsed stacks
(for flamegraph tools) in ``--output``. Everything started is stopped, and
the database dropped, at the end.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil
from bench import database as db
from bench.load import Load, Measurement, run_wrk
from bench.report import SCENARIOS
from bench.servers import VENV_BIN
from bench.targets import Setup, Target


def summarise(raw: Path, top: int) -> str:
    """The functions most often on the stack (inclusive) and on top of it (self)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    out = [f"{total} samples", "", "inclusive:"]
    out += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    out += ["", "self:"]
    out += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(out)


def _thread_cpu(process: psutil.Process) -> dict[int, float]:
    """CPU seconds (user + system) each thread of ``process`` has used so far."""
    return {t.id: t.user_time + t.system_time for t in process.threads()}


def _thread_report(
    process: psutil.Process, before: dict[int, float], after: dict[int, float], load: Measurement
) -> str:
    """CPU ms per request by thread: the event loop's (the main thread) and every other busy one.

    py-spy shows where the GIL holder spends its time; this shows what the
    threads without the GIL (argon2's, the server's own) cost besides.
    """
    requests = max(1, load.requests)
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    lines = [f"CPU ms per request by thread ({requests} requests):"]
    for tid, seconds in sorted(used.items(), key=lambda item: -item[1]):
        if seconds * 1000 / requests >= 0.005:  # hide idle threads
            role = "main (event loop)" if tid == process.pid else "other"
            lines.append(f"  {1000 * seconds / requests:8.3f}  thread {tid} {role}")
    lines.append(f"  {1000 * sum(used.values()) / requests:8.3f}  all threads")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument(
        "--threads", action="store_true", help="sample every busy thread, not only the GIL holder"
    )
    parser.add_argument(
        "--no-sampling",
        action="store_true",
        help="only the CPU per thread: py-spy's sampling costs the worker time too",
    )
    parser.add_argument("--output", type=Path, default=Path(tempfile.mkdtemp(prefix="profile-")))
    args = parser.parse_args(argv)
    pg = db.Postgres()
    name = db.database_name("profile")
    db.create_database(pg, name)
    try:
        url = pg.sqlalchemy_url(name)
        subprocess.run([str(VENV_BIN / "usercore"), "migrate", "--database-url", url], check=True)
        import asyncio

        asyncio.run(db.load_usercore_users(pg.dsn(name), args.users, db.precomputed_hash()))
        ids = asyncio.run(db.sample_ids(pg.dsn(name), "usercore_users", 1000))
        with tempfile.TemporaryDirectory() as data_dir:
            setup = Setup(pg, 1, 10, "granian", Path(data_dir), args.output)
            target = Target("usercore", "usercore", name, ids)
            with target.run(setup) as server:
                shape = target.shape(args.scenario)
                assert shape is not None
                run_wrk(server.url, shape, seconds=2, load=Load(), tag="warm")
                fresh = target.shape(args.scenario)
                assert fresh is not None
                root = psutil.Process(server.process.pid)
                worker = next(p for p in [root, *root.children(recursive=True)] if not p.children())
                raw = args.output / f"{args.scenario}.txt"
                spy = [
                    str(VENV_BIN / "py-spy"), "record", "--pid", str(worker.pid), "--format", "raw",
                    "--duration", str(args.seconds), "--rate", "250", "--output", str(raw),
                ]  # fmt: skip
                spy += [] if args.threads else ["--gil"]
                result: list[object] = []
                load = threading.Thread(
                    target=lambda: result.append(
                        # A fresh shape: refresh tokens are single use.
                        run_wrk(server.url, fresh, seconds=args.seconds, load=Load(), tag="prof")
                    )
                )
                before = _thread_cpu(worker)
                load.start()
                if not args.no_sampling:
                    subprocess.run(spy, check=True, capture_output=True)
                load.join()
                print(result[0])
                print(_thread_report(worker, before, _thread_cpu(worker), result[0]))
                if args.no_sampling:
                    return 0
                print(summarise(raw, args.top))
                print(f"raw stacks: {raw}; server log: {server.log}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            db.drop_database(pg, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
