"""Import and export benchmark: users/s against a COPY floor, and peak memory, on PostgreSQL.

Run (a few minutes at the default size; needs the PostgreSQL server):

    python -m bench.import_export [--users 100000] [--small 10000]

It writes a JSON Lines file of N users (usercore's export format, one
argon2id hash shared by all, as a migration from another usercore would
carry), then, each in a fresh database:

- COPY: the same rows straight into the table with asyncpg's
  ``copy_records_to_table``, after the same JSON decoding: the floor.
- import: ``usercore users import FILE`` as a subprocess (validation, hash
  checks, batched writes), timed, with its peak RSS.
- rerun: the same import again (every record ``unchanged``): what resuming costs.
- export: ``usercore users export --output FILE``, timed, with its peak RSS.
- logins: a sample of imported users log in through the library.

Peak RSS is also measured at ``--small`` users, to show whether memory stays
flat as the file grows. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from bench.database import USERCORE_COLUMNS, Postgres, create_database, database_name, drop_database

import usercore
from usercore.adapters.sqlalchemy import ConnectSettings, migrate
from usercore.domain.ids import uuid7_from_parts

PASSWORD = "tangerine-Rocket-harbour-57-quietly"  # noqa: S105 - a benchmark fixture
#: argon2id at m=1 MiB, t=1: what an import checks costs nothing; a login stays real.
HASH_SETTINGS = {"argon2_memory_kib": 1024, "argon2_time_cost": 1}


def write_file(path: Path, count: int, password_hash: str) -> None:
    start_ms = 1_700_000_000_000
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            moment = datetime.fromtimestamp((start_ms + number) / 1000, UTC)
            stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            record = {
                "id": str(uuid7_from_parts(start_ms + number, os.urandom(10))),
                "email": f"user{number}@example.com",
                "name": f"User {number}",
                "roles": ["user"],
                "is_active": True,
                "is_verified": number % 2 == 0,
                "metadata": {},
                "app_metadata": {},
                "created_at": stamp,
                "updated_at": stamp,
                "version": 1,
                "password_hash": password_hash,
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


async def copy_floor(dsn: str, path: Path) -> float:
    """Seconds to decode the file and COPY its rows in: the fastest any import could be."""
    started = time.perf_counter()

    def rows():  # type: ignore[no-untyped-def]
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                r = json.loads(line)
                created = datetime.fromisoformat(r["created_at"])
                yield (
                    r["id"], r["email"], r["name"], r["roles"], r["is_active"],
                    r["is_verified"], r["password_hash"], created,
                    datetime.fromisoformat(r["updated_at"]), r["version"], 1,
                )  # fmt: skip

    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "usercore_users", records=rows(), columns=USERCORE_COLUMNS
        )
    finally:
        await connection.close()
    return time.perf_counter() - started


def cli(url: str, *args: str) -> tuple[float, int, str]:
    """Run ``usercore ARGS`` on ``url``: seconds, peak RSS in MiB, and its stderr's last line."""
    env = {**os.environ, **{f"USERCORE_{k.upper()}": str(v) for k, v in HASH_SETTINGS.items()}}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    command = [sys.executable, "-m", "usercore.entrypoints.cli.main", *args, "--database-url", url]
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    assert process.stderr is not None
    lines = process.stderr.read().strip().splitlines()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"usercore {' '.join(args)} failed: {lines[-5:]}")
    return elapsed, usage.ru_maxrss // 1024, lines[-1] if lines else ""


async def logins(url: str, count: int, sample: int) -> int:
    ok = 0
    async with usercore.connect(url, **HASH_SETTINGS) as core:
        for number in random.sample(range(count), min(sample, count)):
            user = await core.auth.authenticate(
                email=f"user{number}@example.com", password=PASSWORD
            )
            ok += user.is_active
    return ok


def fresh(server: Postgres, label: str) -> tuple[str, str, str]:
    name = database_name(label)
    create_database(server, name)
    url = server.sqlalchemy_url(name)
    asyncio.run(migrate(ConnectSettings.parse(url, pool_size=2, timeout_seconds=30)))
    return name, url, server.dsn(name)


def run(count: int, directory: Path, server: Postgres) -> dict[str, float]:
    import argon2

    password_hash = argon2.PasswordHasher(memory_cost=1024, time_cost=1, parallelism=1).hash(
        PASSWORD
    )
    given = directory / f"users-{count}.jsonl"
    write_file(given, count, password_hash)
    result: dict[str, float] = {"users": count}
    name, url, dsn = fresh(server, "copy")
    try:
        result["copy_s"] = asyncio.run(copy_floor(dsn, given))
    finally:
        drop_database(server, name)
    name, url, dsn = fresh(server, "import")
    try:
        result["import_s"], result["import_rss_mib"], summary = cli(
            url, "users", "import", str(given)
        )
        print(f"  import: {summary}")
        result["rerun_s"], _, summary = cli(url, "users", "import", str(given))
        print(f"  rerun:  {summary}")
        exported = directory / f"export-{count}.jsonl"
        result["export_s"], result["export_rss_mib"], _ = cli(
            url, "users", "export", "--output", str(exported)
        )
        assert sum(1 for _ in exported.open()) == count
        result["logins_ok"] = asyncio.run(logins(url, count, 20))
    finally:
        drop_database(server, name)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    options = parser.parse_args()
    server = Postgres()
    with tempfile.TemporaryDirectory() as tmp:
        for count in (options.small, options.users):
            print(f"{count} users:")
            r = run(count, Path(tmp), server)
            copy_rate, import_rate = count / r["copy_s"], count / r["import_s"]
            print(f"  COPY floor      {copy_rate:>10,.0f} users/s  ({r['copy_s']:.1f} s)")
            print(
                f"  import          {import_rate:>10,.0f} users/s  ({r['import_s']:.1f} s, "
                f"{import_rate / copy_rate:.2f}x COPY, peak RSS {r['import_rss_mib']:.0f} MiB)"
            )
            print(f"  rerun           {count / r['rerun_s']:>10,.0f} users/s  (all unchanged)")
            print(
                f"  export          {count / r['export_s']:>10,.0f} users/s  "
                f"({r['export_s']:.1f} s, peak RSS {r['export_rss_mib']:.0f} MiB)"
            )
            print(f"  logins          {r['logins_ok']:.0f}/20 sampled users logged in")


if __name__ == "__main__":
    main()
