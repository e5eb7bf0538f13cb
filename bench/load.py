"""Drive load with wrk: one request shape per scenario, numbers parsed from its Lua ``done``."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

LUA_SCRIPT = Path(__file__).parent / "lua" / "scenario.lua"
_MARK = "BENCHJSON "


@dataclass(frozen=True)
class Shape:
    """What every request of a scenario looks like; ``{v}`` takes the next pool value.

    ``mode="refresh"`` spends each value once and queues the ``refresh_token`` of
    each 200 answer; ``{n}`` becomes a value unique within one wrk run.
    """

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    values: tuple[str, ...] = ()
    mode: str = "cycle"

    def spec(self, tag: str) -> str:
        """The spec file text that bench/lua/scenario.lua reads."""
        lines = [f"method {self.method}", f"path {self.path}", f"mode {self.mode}", f"tag {tag}"]
        lines += [f"header {name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines.append(f"body {self.body}")
        lines += [f"value {value}" for value in self.values]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Load:
    """How hard and how long: wrk's connections, threads and seconds."""

    connections: int = 32
    threads: int = 2
    timeout_seconds: int = 10


@dataclass(frozen=True)
class Measurement:
    """One wrk run."""

    requests: int
    seconds: float
    errors: int  # connect, read, write errors and timeouts
    non2xx: int
    p50_ms: float
    p99_ms: float
    cpu_ms_per_request: float = 0.0  # the server's CPU time per request (all its processes)

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(url: str, shape: Shape, *, seconds: float, load: Load, tag: str) -> Measurement:
    """Load ``url`` with requests of ``shape`` for ``seconds``; raises if wrk fails."""
    with tempfile.NamedTemporaryFile("w", suffix=".spec", delete=False) as spec:
        spec.write(shape.spec(tag))
    try:
        command = [
            "wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{max(1, round(seconds))}s",
            f"--timeout={load.timeout_seconds}s", "-s", str(LUA_SCRIPT), url,
            "--", spec.name, str(load.threads),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        Path(spec.name).unlink(missing_ok=True)
    for line in done.stdout.splitlines():
        if line.startswith(_MARK):
            raw = json.loads(line[len(_MARK) :])
            return Measurement(
                requests=raw["requests"],
                seconds=raw["duration_us"] / 1e6,
                errors=raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
                non2xx=raw["non2xx"],
                p50_ms=raw["p50_us"] / 1e3,
                p99_ms=raw["p99_us"] / 1e3,
            )
    raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
