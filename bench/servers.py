"""Start, wait for and stop the servers under test; measure their workers' memory.

Every server runs in its own session (process group), so stopping it stops
its workers too, and a Ctrl-C in the terminal reaches only the harness, which
then stops everything it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

VENV_BIN = Path(sys.executable).parent
STOP_GRACE_SECONDS = 10.0
START_TIMEOUT_SECONDS = 60.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One running server: its name, base URL and process group."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    extra: dict[str, str] = field(default_factory=dict)

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker process, in MB.

        Workers are the leaves of the process tree (a single-process server is
        its own worker); a supervisor that only watches them is not counted.
        """
        try:
            root = psutil.Process(self.process.pid)
            tree = [root, *root.children(recursive=True)]
            leaves = [proc for proc in tree if not proc.children()]
            return sorted(proc.memory_info().rss / 1e6 for proc in leaves)
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server and all its processes."""
        try:
            root = psutil.Process(self.process.pid)
            total = 0.0
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            return 0.0
        return total

    def wait_idle(self, *, busy_below: float = 0.05, timeout: float = 20.0) -> None:
        """Return once the server uses under ``busy_below`` of a core (its backlog is done).

        A wrk run that ends leaves requests in flight (a queue of password hashes,
        say); without this wait their work would land on the next run.
        """
        deadline = time.monotonic() + timeout
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - last < busy_below * 0.25:
                return
            last = now

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the server printed."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def granian_command(target: str, port: int, workers: int, *, factory: bool = True) -> list[str]:
    """Serve an ASGI app (factory) with Granian, as ``usercore serve`` does."""
    command = [str(VENV_BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(workers), "--no-access-log"]
    command += ["--log-level", "warning"]
    return [*command, "--factory", target] if factory else [*command, target]


def uvicorn_command(target: str, port: int, workers: int) -> list[str]:
    """Serve an ASGI app factory with uvicorn."""
    command = [str(VENV_BIN / "uvicorn"), "--factory", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    return [*command, target]


def _wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(server.url + path, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"{server.name} not ready after {START_TIMEOUT_SECONDS}s:\n{server.log_tail()}"
    )


def stop(server: Server) -> None:
    """Stop a server and all its workers: SIGTERM to the group, then SIGKILL to what is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(STOP_GRACE_SECONDS)
    # Also sweeps workers that outlived their supervisor.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


@contextlib.contextmanager
def running(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    env: Mapping[str, str],
    log_dir: Path,
    ready_path: str = "/health",
) -> Iterator[Server]:
    """Run ``command`` until the block ends (also on errors and Ctrl-C)."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        _wait_ready(server, ready_path)
        yield server
    finally:
        stop(server)
