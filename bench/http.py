"""Issue 5's benchmark: ``usercore serve`` next to a bare Litestar app, same server and workers.

    .venv/bin/python -m bench.http [--workers 2] [--seconds 5] [--connections 16]

Starts ``usercore serve`` (embedded SQLite in a temporary directory, default
Argon2 parameters, default logging) and the bare Litestar floor
(bench/apps/floors.py, a small JSON object) on Granian with the same worker
count, loads both with wrk on 127.0.0.1 for a bounded time each, and prints
requests per second and p50/p99 latency of: the floor, ``GET /users/me`` with
a valid token, the password grant and ``POST /users``; and the ratio of
``GET /users/me`` to the floor. Numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import urllib.request
from pathlib import Path

from bench.load import Load, Measurement, Shape, run_wrk
from bench.servers import VENV_BIN, free_port, granian_command, running

PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark account
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
#: Accounts the password grant cycles through, so no single row is hot.
LOGIN_USERS = 8


def _post(url: str, body: bytes, content_type: str) -> dict[str, str]:
    request = urllib.request.Request(url, body, {"Content-Type": content_type}, method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        answer: dict[str, str] = json.loads(response.read())
        return answer


def _prepare(url: str) -> str:
    """Register the login accounts; returns an access token of the first."""
    token = ""
    for number in range(LOGIN_USERS):
        email = f"bench{number}@example.com"
        _post(f"{url}/users", json.dumps({"email": email, "password": PASSWORD}).encode(), JSON)
        form = f"grant_type=password&username={email}&password={PASSWORD}".encode()
        token = token or _post(f"{url}/auth/token", form, FORM)["access_token"]
    return token


def _row(name: str, result: Measurement) -> str:
    errors = (
        f" ({result.non2xx} non-2xx, {result.errors} errors)"
        if result.non2xx or result.errors
        else ""
    )
    return f"| {name} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} |{errors}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="per scenario (default 5)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    load = Load(connections=args.connections, threads=args.threads)
    with tempfile.TemporaryDirectory(prefix="usercore-bench-") as scratch:
        data_dir = Path(scratch)
        env = {
            "USERCORE_DATA_DIR": str(data_dir),
            "USERCORE_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'bench.sqlite3'}",
        }
        usercore_port, floor_port = free_port(), free_port()
        serve = [str(VENV_BIN / "usercore"), "serve", "--port", str(usercore_port)]
        serve += ["--workers", str(args.workers)]
        floor = granian_command("bench.apps.floors:bare", floor_port, args.workers)
        with (
            running("usercore", serve, port=usercore_port, env=env, log_dir=data_dir,
                    ready_path="/health/live") as usercore,
            running("floor", floor, port=floor_port, env={}, log_dir=data_dir) as bare,
        ):  # fmt: skip
            token = _prepare(usercore.url)
            emails = tuple(f"bench{number}%40example.com" for number in range(LOGIN_USERS))
            shapes = {
                "bare Litestar floor (GET /)": (bare.url, Shape("GET", "/")),
                "GET /users/me": (
                    usercore.url,
                    Shape("GET", "/users/me", {"Authorization": f"Bearer {token}"}),
                ),
                "POST /auth/token (password)": (
                    usercore.url,
                    Shape(
                        "POST",
                        "/auth/token",
                        {"Content-Type": FORM},
                        f"grant_type=password&username={{v}}&password={PASSWORD}",
                        emails,
                    ),
                ),
                "POST /users": (
                    usercore.url,
                    Shape(
                        "POST",
                        "/users",
                        {"Content-Type": JSON},
                        f'{{"email": "reg{{n}}@example.com", "password": "{PASSWORD}"}}',
                    ),
                ),
            }
            results: dict[str, Measurement] = {}
            for name, (url, shape) in shapes.items():
                run_wrk(url, shape, seconds=1, load=load, tag="warm")  # warm-up, not kept
                results[name] = run_wrk(url, shape, seconds=args.seconds, load=load, tag="run")
    print(f"workers={args.workers} connections={args.connections} seconds={args.seconds}")
    print("| scenario | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, result in results.items():
        print(_row(name, result))
    floor_rps = results["bare Litestar floor (GET /)"].rps
    ratio = results["GET /users/me"].rps / floor_rps if floor_rps else 0.0
    print(f"GET /users/me / floor: {ratio:.2f}")


if __name__ == "__main__":
    main()
