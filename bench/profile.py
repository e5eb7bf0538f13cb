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
from bench.load import Load, run_wrk
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("scenario", choices=list(SCENARIOS))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument(
        "--threads", action="store_true", help="sample every busy thread, not only the GIL holder"
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
                load.start()
                subprocess.run(spy, check=True, capture_output=True)
                load.join()
                print(result[0])
                print(summarise(raw, args.top))
                print(f"raw stacks: {raw}; server log: {server.log}", file=sys.stderr)
    finally:
        with contextlib.suppress(Exception):
            db.drop_database(pg, name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
