"""usercore side by side with fastapi-users and the framework and storage floors.

Run from the repository root (wrk and a PostgreSQL server on 127.0.0.1:5432
with trust auth for ``postgres``; see docs/performance.md):

    .venv/bin/python -m bench.run            # the full run: about 35 minutes
    .venv/bin/python -m bench.run --quick    # a smoke run: a few minutes

It creates two fresh databases (1,000 and 1,000,000 users), runs every
server with the same server software, worker count and pool size, loads them
with wrk in interleaved runs, measures the in-process argon2id ceiling, prints
the report (Markdown) and writes it with the raw numbers to ``--output``. The
databases are dropped and every server stopped at the end, also on errors
and Ctrl-C. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from bench import database as db
from bench.apps.fastapi_users_app import create_schema
from bench.ceiling import argon2_verify_rate
from bench.load import Load, Measurement, run_wrk
from bench.report import CEILING, HASH_BOUND, PARTICIPANTS, SCENARIOS, Cell, Phase, markdown
from bench.servers import VENV_BIN
from bench.targets import Setup, Target

ID_SAMPLE = 1000
DOCS_START, DOCS_END = "<!-- LAST-RUN -->", "<!-- /LAST-RUN -->"
#: Scenarios that run with the same servers up: the data-scale pair, then the rest.
#: How long after its last run a server's memory is read again, settled.
RSS_SETTLE_SECONDS = 5.0

GROUPS = (
    ("get_by_id", "list_page"),
    ("get_me", "patch_me", "password_grant", "refresh_grant", "register"),
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 s warm-up, 1 run of 3 s")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (default 3)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per run (15)")
    parser.add_argument("--workers", default="1,2", help="worker counts to run (default 1,2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool-size", type=int, default=10, help="DB pool per worker (10)")
    parser.add_argument("--small-users", type=int, default=1_000)
    parser.add_argument("--large-users", type=int, default=1_000_000)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--server", choices=("granian", "uvicorn"), default="granian")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument(
        "--usercore-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the usercore servers, e.g. USERCORE_HASH_CONCURRENCY=1",
    )
    parser.add_argument(
        "--docs", type=Path, help="also write the report into this file's LAST-RUN section"
    )
    parser.add_argument("--output", type=Path, help="directory for the report, raw JSON, logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.warmup, args.runs, args.duration = 1.0, 1, 3.0
    args.workers = [int(n) for n in args.workers.split(",")]
    args.usercore_env = tuple(tuple(pair.split("=", 1)) for pair in args.usercore_env)
    args.scenarios = [name for name in args.scenarios.split(",") if name]
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} x {cpu}, {memory:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def revision() -> str:
    """The commit measured, marked when the work tree has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "src"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' with local changes in src/' if dirty else ''}"


def update_docs(path: Path, report: str) -> None:
    """Put ``report`` between the LAST-RUN markers of ``path``."""
    text = path.read_text()
    start, end = text.index(DOCS_START) + len(DOCS_START), text.index(DOCS_END)
    path.write_text(f"{text[:start]}\n{report}\n{text[end:]}")


def usercore(*arguments: str, env: dict[str, str]) -> None:
    subprocess.run(
        [str(VENV_BIN / "usercore"), *arguments], env={**os.environ, **env}, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def prepare_data(
    args: argparse.Namespace, pg: db.Postgres, small: str, large: str
) -> dict[str, list[str]]:
    """Migrate, bulk-load and sample ids; returns ids per (database, table)."""
    for name in (small, large):
        usercore("migrate", "--database-url", pg.sqlalchemy_url(name), env={})
    asyncio.run(create_schema(pg.sqlalchemy_url(small)))
    password_hash = db.precomputed_hash()

    async def load() -> dict[str, list[str]]:
        await db.load_usercore_users(pg.dsn(small), args.small_users, password_hash)
        await db.load_fastapi_users(pg.dsn(small), args.small_users, password_hash)
        started = time.monotonic()
        await db.load_usercore_users(pg.dsn(large), args.large_users, password_hash)
        log(f"loaded {args.large_users:,} users in {time.monotonic() - started:.0f} s")
        return {
            "small": await db.sample_ids(pg.dsn(small), "usercore_users", ID_SAMPLE),
            "large": await db.sample_ids(pg.dsn(large), "usercore_users", ID_SAMPLE),
            "fastapi": await db.sample_ids(pg.dsn(small), "user", ID_SAMPLE),
        }

    return asyncio.run(load())


def make_targets(small: str, large: str, ids: dict[str, list[str]]) -> list[Target]:
    return [
        Target("usercore", "usercore", small, ids["small"]),
        Target("usercore@1M", "usercore", large, ids["large"]),
        Target("fastapi-users", "fastapi-users", small, ids["fastapi"]),
        Target("floor-storage", "storage", small, ids["small"]),
        Target("floor-storage@1M", "storage", large, ids["large"]),
        Target("floor-bare", "bare"),
    ]


def forget_registrations(pg: db.Postgres, small: str) -> None:
    """Delete the accounts the registration scenario made, so every phase starts alike."""

    async def delete() -> None:
        await db.execute(pg.dsn(small), "DELETE FROM usercore_users WHERE email LIKE 'reg%'")
        await db.execute(pg.dsn(small), """DELETE FROM "user" WHERE email LIKE 'reg%'""")
        await db.execute(pg.dsn(small), "VACUUM ANALYZE")

    asyncio.run(delete())


def load_once(target: Target, scenario: str, seconds: float, load: Load, tag: str) -> Measurement:
    """One wrk run on ``target``, with the server's CPU time per request."""
    shape = target.shape(scenario)
    assert shape is not None
    assert target.server is not None
    target.server.wait_idle()
    cpu_before = target.server.cpu_seconds()
    result = run_wrk(target.server.url, shape, seconds=seconds, load=load, tag=tag)
    cpu = target.server.cpu_seconds() - cpu_before
    # The requests wrk abandoned at the end finish now, not during the next run.
    target.server.wait_idle()
    per_request = 1000 * cpu / result.requests if result.requests else 0.0
    return dataclasses.replace(result, cpu_ms_per_request=per_request)


def hash_once(processes: int, seconds: float, encoded: str) -> Measurement:
    """The argon2id ceiling measured like a server run: verifies as requests."""
    rate = argon2_verify_rate(processes, seconds, encoded)
    return Measurement(round(rate * seconds), seconds, 0, 0, 0.0, 0.0)


def measure(
    args: argparse.Namespace, scenario: str, runners: list[Target], workers: int
) -> dict[str, Cell]:
    """Warm every runner up, then ``args.runs`` rounds of one run each, in turn (A B A B).

    In the hash-bound scenarios the in-process argon2id ceiling takes its turn
    in each round too, so machine drift hits it like the servers.
    """
    load = Load(connections=args.connections, threads=args.threads)
    names = [target.name for target in runners]
    if scenario in HASH_BOUND:
        names.append(CEILING)
    runs: dict[str, list[Measurement]] = {name: [] for name in names}
    encoded = db.precomputed_hash()
    by_name = {target.name: target for target in runners}
    for round_ in range(-1, args.runs):  # round -1 is the warm-up
        seconds = args.warmup if round_ < 0 else args.duration
        for name in names:
            if name == CEILING:
                if round_ < 0:
                    continue
                result = hash_once(workers, seconds, encoded)
            else:
                tag = f"w{workers}r{round_ + 1}{uuid.uuid4().hex[:8]}"
                result = load_once(by_name[name], scenario, seconds, load, tag)
            if round_ >= 0:
                runs[name].append(result)
            label = "warm-up" if round_ < 0 else f"run {round_ + 1}"
            log(
                f"{scenario} {name} {label}: {result.rps:,.0f} req/s, "
                f"p99 {result.p99_ms:.1f} ms, CPU {result.cpu_ms_per_request:.2f} ms/req, "
                f"errors {result.errors}, non-2xx {result.non2xx}"
            )
    return {name: Cell(tuple(measured)) for name, measured in runs.items()}


def run_phase(
    args: argparse.Namespace,
    setup: Setup,
    targets: list[Target],
    small: str,
    *,
    phase: Phase,
    publish: Callable[[], None],
) -> None:
    """Measure every scenario with ``setup.workers`` workers per server into ``phase``.

    Scenarios run in groups, each with only the servers it needs up, so the
    idle pools of the others don't crowd PostgreSQL's connection limit.
    ``publish`` is called after each scenario, so an interrupted run keeps
    what it measured.
    """
    encoded = db.precomputed_hash()
    seconds = min(args.duration, 5.0)
    phase.ceiling = argon2_verify_rate(setup.workers, seconds, encoded)
    phase.ceiling_all_cores = argon2_verify_rate(os.cpu_count() or 1, seconds, encoded)
    log(
        f"argon2id ceiling: {phase.ceiling:.1f}/s ({setup.workers} proc), "
        f"{phase.ceiling_all_cores:.1f}/s (all)"
    )
    for group in GROUPS:
        scenarios = [name for name in group if name in args.scenarios]
        wanted = {name for scenario in scenarios for name in PARTICIPANTS[scenario]}
        group_targets = [target for target in targets if target.name in wanted]
        if not scenarios:
            continue
        with contextlib.ExitStack() as stack:
            for target in group_targets:
                server = stack.enter_context(target.run(setup))
                log(f"{target.name}: up at {server.url}")
            for scenario in scenarios:
                runners = [t for t in group_targets if t.name in PARTICIPANTS[scenario]]
                runners = [t for t in runners if t.supports(scenario)]
                phase.cells[scenario] = measure(args, scenario, runners, setup.workers)
                if scenario == "register":
                    forget_registrations(setup.postgres, small)
                publish()
            record_memory(phase, group_targets)
            publish()


def record_memory(phase: Phase, targets: list[Target]) -> None:
    """Each server's worker RSS at the end of its group's runs, and again once settled.

    A server may hold memory for a burst and give it back when the burst is
    over (usercore unmaps its argon2 work areas after 2 s without a hash):
    the first reading shows what the load held, the second what stays.
    """
    for target in targets:
        if target.server is not None:
            phase.rss_busy_mb[target.name] = target.server.worker_rss_mb()
    time.sleep(RSS_SETTLE_SECONDS)
    for target in targets:
        if target.server is not None:
            phase.rss_mb[target.name] = target.server.worker_rss_mb()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    # A SIGTERM ends the run like Ctrl-C: every server stopped, both databases dropped.
    def on_term(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    stamp = datetime.now(UTC)
    output = args.output or Path(tempfile.gettempdir()) / f"usercore-bench-{stamp:%Y%m%dT%H%M%S}"
    (output / "logs").mkdir(parents=True, exist_ok=True)
    pg = db.Postgres(args.pg_host, args.pg_port, args.pg_user)
    small, large = db.database_name("1k"), db.database_name("1m")
    phases: list[Phase] = []
    meta = {
        "started": f"{stamp:%Y-%m-%d %H:%M} UTC",
        "machine": machine(),
        "usercore": revision(),
        "settings": (
            f"server {args.server}; wrk {args.threads} threads, {args.connections} connections; "
            f"warm-up {args.warmup:g} s, {args.runs} run(s) of {args.duration:g} s, interleaved; "
            f"pool {args.pool_size} per worker; {args.small_users:,} and {args.large_users:,} users"
            + "".join(f"; usercore {name}={value}" for name, value in args.usercore_env)
        ),
    }
    interrupted = False
    failed: Exception | None = None

    def publish() -> None:
        meta["load_average"] = str(os.getloadavg())
        report = markdown(phases, meta)
        (output / "report.md").write_text(report)
        raw = {"meta": meta, "phases": [asdict(phase) for phase in phases]}
        (output / "results.json").write_text(json.dumps(raw, indent=1, default=str))
        if args.docs is not None and phases:
            update_docs(args.docs, report)

    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="usercore-bench-")))
        try:
            for name in (small, large):
                db.create_database(pg, name)
                stack.callback(db.drop_database, pg, name)
            log(f"databases {small}, {large}; output in {output}")
            ids = prepare_data(args, pg, small, large)
            usercore("keys", "rotate", env={"USERCORE_DATA_DIR": str(data_dir)})
            targets = make_targets(small, large, ids)
            for workers in args.workers:
                setup = Setup(
                    pg, workers, args.pool_size, args.server, data_dir, output / "logs",
                    args.usercore_env,
                )  # fmt: skip
                log(f"phase: {workers} worker(s); load average {os.getloadavg()}")
                phase = Phase(workers, 0.0, 0.0, {}, {}, {})
                phases.append(phase)
                run_phase(args, setup, targets, small, phase=phase, publish=publish)
        except KeyboardInterrupt:
            interrupted = True
            log("interrupted: stopping servers, dropping databases")
        except Exception as exc:  # noqa: BLE001 - report what was measured, then fail
            failed = exc
            traceback.print_exc()
            log(f"failed: {exc!r}; stopping servers, dropping databases")
    publish()
    print(markdown(phases, meta))
    log(f"report and raw numbers in {output}")
    if failed is not None:
        raise SystemExit(f"bench failed: {failed!r}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
