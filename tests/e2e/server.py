"""A real ``usercore serve`` in a subprocess on a free port, and a client for it."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import httpx

from tests.integration.sqlalchemy.support import (
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)
from usercore.container.storage import BACKENDS

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "root@example.com"
ADMIN_PASSWORD = "admin passphrase of some length"
#: Backends the e2e suite runs on: memory always, SQLite once its adapter is registered.
E2E_BACKENDS = ["memory", *(["sqlite"] if "sqlite" in BACKENDS else [])]
#: The installed console script, as users run it.
USERCORE = [str(Path(sys.executable).parent / "usercore")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(data_dir: Path, backend: str, database_url: str | None = None) -> dict[str, str]:
    """Env vars of a fast, isolated server: cheap Argon2, its own data directory.

    ``backend="default"`` sets nothing but a fresh home: the out-of-the-box server;
    ``"postgres"`` needs the ``database_url`` of a database of its own.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERCORE_")}
    if backend == "default":
        env["XDG_DATA_HOME"] = str(data_dir)
        return env
    url = database_url or (
        "memory://" if backend == "memory" else f"sqlite+aiosqlite:///{data_dir / 'e2e.sqlite3'}"
    )
    env.update(
        USERCORE_DATA_DIR=str(data_dir),
        USERCORE_DATABASE_URL=url,
        USERCORE_ARGON2_MEMORY_KIB="256",
        USERCORE_ARGON2_TIME_COST="1",
        USERCORE_LOG_LEVEL="INFO",
    )
    return env


@attrs.define
class Server:
    """A running server: its URL, its log file, and what a test needs to drive it."""

    base_url: str
    backend: str
    log_file: Path
    env: dict[str, str]
    client: httpx.Client
    #: Every secret sent or received, for the test that greps the logs for them.
    secrets: set[str] = attrs.field(factory=set)
    has_admin: bool = False
    #: The ``usercore serve`` process, for tests that kill it.
    process: subprocess.Popen[bytes] | None = None

    def register(self, email: str, password: str = PASSWORD, **fields: object) -> dict[str, object]:
        response = self.client.post("/users", json={"email": email, "password": password, **fields})
        assert response.status_code == 201, response.text
        self.secrets.add(password)
        body: dict[str, object] = response.json()
        return body

    def login(self, email: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.client.post(
            "/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        self.secrets.update((tokens["access_token"], tokens["refresh_token"], password))
        return tokens

    def refresh(self, refresh_token: str) -> httpx.Response:
        response = self.client.post(
            "/auth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token}
        )
        if response.status_code == 200:
            self.secrets.update((response.json()["access_token"], response.json()["refresh_token"]))
        return response

    def user_with_token(
        self, email: str, password: str = PASSWORD, **fields: object
    ) -> tuple[dict[str, object], dict[str, str]]:
        user = self.register(email, password, **fields)
        return user, bearer(self.login(email, password)["access_token"])

    def admin(self) -> dict[str, str]:
        return bearer(self.login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (skips without a server; fails so in CI)."""
    require_postgres()
    url = asyncio.run(create_postgres_database())
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(url))


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def run_cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script
        [*USERCORE, *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@contextmanager
def running_server(
    data_dir: Path,
    backend: str,
    *extra_args: str,
    scheme: str = "http",
    database_url: str | None = None,
    prepare: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``usercore serve`` and wait until it answers; stop it after.

    ``prepare`` migrates a server database and makes an admin first;
    ``extra_env`` adds settings.
    """
    env = {**environment(data_dir, backend, database_url), **(extra_env or {})}
    has_admin = prepare and backend in {"sqlite", "postgres"}
    if prepare and backend == "postgres":
        migrated = run_cli("migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
    if has_admin:
        # Storage outlives the CLI process only on a real database.
        created = run_cli(
            "users", "create", "--email", ADMIN_EMAIL, "--admin", "--password-stdin",
            env=env, stdin=ADMIN_PASSWORD + "\n",
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
    port = free_port()
    log_file = data_dir / "server.log"
    with log_file.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            [*USERCORE, "serve", "--port", str(port), *extra_args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"{scheme}://127.0.0.1:{port}"
    try:
        _wait_until_live(base_url, process, log_file)
        with httpx.Client(base_url=base_url, timeout=30, verify=False) as client:  # noqa: S501
            server = Server(
                base_url, backend, log_file, env, client, has_admin=has_admin, process=process
            )
            server.secrets.add(ADMIN_PASSWORD)
            yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_live(base_url: str, process: subprocess.Popen[bytes], log_file: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"usercore serve exited: {log_file.read_text()}")
        try:
            # A self-signed certificate in the TLS test: only the loopback is trusted.
            live = httpx.get(f"{base_url}/health/live", timeout=1, verify=False)  # noqa: S501
            if live.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"usercore serve did not start: {log_file.read_text()}")
