"""Turn measurements into the tables of docs/performance.md: medians, ratios, targets."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.load import Measurement

SCENARIOS: dict[str, str] = {
    "get_me": "GET /users/me",
    "patch_me": "PATCH /users/me",
    "get_by_id": "admin GET /users/{id}",
    "list_page": "admin keyset list page (20)",
    "password_grant": "password grant",
    "refresh_grant": "refresh grant",
    "register": "POST /users",
}
#: Which targets run each scenario (the others have no such endpoint).
PARTICIPANTS: dict[str, tuple[str, ...]] = {
    "get_me": ("usercore", "fastapi-users", "floor-storage", "floor-bare"),
    "patch_me": ("usercore", "fastapi-users"),
    "get_by_id": ("usercore", "usercore@1M", "fastapi-users", "floor-storage", "floor-storage@1M"),
    "list_page": ("usercore", "usercore@1M", "floor-storage", "floor-storage@1M"),
    "password_grant": ("usercore", "fastapi-users"),
    "refresh_grant": ("usercore",),
    "register": ("usercore", "fastapi-users"),
}
HASH_BOUND = ("password_grant", "register")
#: The in-process argon2id ceiling's row in the hash-bound scenarios.
CEILING = "argon2id in process"
RSS_LIMIT_MB = 120.0


@dataclass(frozen=True)
class Cell:
    """The runs of one target in one scenario, summarised."""

    runs: tuple[Measurement, ...]

    @property
    def rps(self) -> float:
        """Median requests per second over the runs."""
        return statistics.median(run.rps for run in self.runs)

    @property
    def p50_ms(self) -> float:
        """Median over the runs of the 50th latency percentile."""
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99_ms(self) -> float:
        """Median over the runs of the 99th latency percentile."""
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def cpu_ms(self) -> float:
        """Median over the runs of the server's CPU milliseconds per request."""
        return statistics.median(run.cpu_ms_per_request for run in self.runs)

    @property
    def errors(self) -> int:
        """Socket errors and timeouts over all runs."""
        return sum(run.errors for run in self.runs)

    @property
    def non2xx(self) -> int:
        """Answers outside 2xx over all runs."""
        return sum(run.non2xx for run in self.runs)


@dataclass
class Phase:
    """Everything measured at one worker count."""

    workers: int
    ceiling: float  # argon2id verifies/s with `workers` processes
    ceiling_all_cores: float
    cells: dict[str, dict[str, Cell]]
    rss_busy_mb: dict[str, list[float]]  # worker RSS right after the group's last run
    rss_mb: dict[str, list[float]]  # and a few seconds later, settled (the target's)

    def rps(self, scenario: str, target: str) -> float | None:
        """Median rps of ``target`` in ``scenario``, if it ran."""
        cell = self.cells.get(scenario, {}).get(target)
        return None if cell is None else cell.rps

    def ordered_cells(self) -> list[tuple[str, dict[str, Cell]]]:
        """The scenarios measured, in the order of ``SCENARIOS``."""
        return [(name, self.cells[name]) for name in SCENARIOS if name in self.cells]

    def cpu(self, scenario: str, target: str) -> float | None:
        """Median server CPU ms per request of ``target`` in ``scenario``, if it ran."""
        cell = self.cells.get(scenario, {}).get(target)
        return None if cell is None else cell.cpu_ms

    def ceiling_for(self, scenario: str) -> float:
        """The argon2id ceiling measured in turn with ``scenario``'s runs, else the phase's."""
        return self.rps(scenario, CEILING) or self.ceiling


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def _fmt(value: float | None, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:,.2f}{suffix}"


def _megabytes(values: list[float]) -> str:
    return ", ".join(f"{mb:.0f}" for mb in values) or "n/a"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("hit" if ok else "**miss**")


def targets(phase: Phase) -> list[tuple[str, str, bool | None]]:
    """Each target of the issue: (what, measured, hit?)."""
    rows: list[tuple[str, str, bool | None]] = []

    def at_least(what: str, value: float | None, floor: float) -> None:
        rows.append((what, _fmt(value, "x"), None if value is None else value >= floor))

    for scenario in ("get_me", "patch_me"):
        value = _ratio(phase.rps(scenario, "usercore"), phase.rps(scenario, "fastapi-users"))
        at_least(f"{SCENARIOS[scenario]} >= 2.0x fastapi-users", value, 2.0)
    value = _ratio(phase.rps("get_me", "usercore"), phase.rps("get_me", "floor-storage"))
    at_least("GET /users/me >= 0.6x storage floor", value, 0.6)
    for scenario in HASH_BOUND:
        value = _ratio(phase.rps(scenario, "usercore"), phase.ceiling_for(scenario))
        at_least(f"{SCENARIOS[scenario]} >= 0.9x argon2 ceiling", value, 0.9)
        value = _ratio(phase.rps(scenario, "usercore"), phase.rps(scenario, "fastapi-users"))
        at_least(f"{SCENARIOS[scenario]} >= 1.0x fastapi-users", value, 1.0)
    bad = sum(
        cells[name].errors + cells[name].non2xx
        for cells in phase.cells.values()
        for name in cells
        if name.startswith("usercore")
    )
    rows.append(("usercore: zero errors and non-2xx", str(bad), bad == 0))
    rss = max(
        (mb for name, mbs in phase.rss_mb.items() if name.startswith("usercore") for mb in mbs),
        default=None,
    )
    rows.append(
        (
            f"RSS per usercore worker <= {RSS_LIMIT_MB:.0f} MB",
            _fmt(rss, " MB"),
            None if rss is None else rss <= RSS_LIMIT_MB,
        )
    )
    for scenario in ("get_by_id", "list_page"):
        cost = _ratio(phase.rps(scenario, "usercore"), phase.rps(scenario, "usercore@1M"))
        rows.append(
            (
                f"{SCENARIOS[scenario]}: cost at 1M <= 1.5x cost at 1k",
                _fmt(cost, "x"),
                None if cost is None else cost <= 1.5,
            )
        )
    return rows


def markdown(phases: Sequence[Phase], meta: Mapping[str, Any]) -> str:
    """The report: settings, then per worker count the raw table, ratios, memory and targets."""
    out = [
        f"Run {meta['started']} of usercore {meta.get('usercore', '?')} on {meta['machine']}; "
        f"{meta['settings']}.",
        "",
    ]
    for phase in phases:
        out += [f"### {phase.workers} worker{'s' if phase.workers > 1 else ''} per server", ""]
        out += [
            f"argon2id ceiling (m=19456 KiB, t=2, p=1, in process) before the runs: "
            f"{phase.ceiling:,.1f} verifies/s with {phase.workers} process(es); "
            f"{phase.ceiling_all_cores:,.1f}/s with one process per core. In the hash-bound "
            f"scenarios it is measured again in turn with the servers (row {CEILING!r}).",
            "",
            "| scenario | server | req/s (median) | p50 ms | p99 ms | server CPU ms/req "
            "| errors | non-2xx |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario, cells in phase.ordered_cells():
            for name, cell in cells.items():
                out.append(
                    f"| {SCENARIOS[scenario]} | {name} | {cell.rps:,.0f} | {cell.p50_ms:.2f} "
                    f"| {cell.p99_ms:.2f} | {cell.cpu_ms:.2f} | {cell.errors} | {cell.non2xx} |"
                )
        out += [
            "",
            "Ratios of median req/s; CPU is fastapi-users' CPU per request over usercore's "
            "(steadier on a shared machine; above 1, usercore does less work per request):",
            "",
            "| scenario | usercore / fastapi-users | CPU fastapi-users / usercore "
            "| usercore / storage floor | usercore / bare floor | usercore / argon2 ceiling |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for scenario, _ in phase.ordered_cells():
            mine = phase.rps(scenario, "usercore")
            peer = phase.rps(scenario, "fastapi-users")
            mine_cpu = phase.cpu(scenario, "usercore")
            hashed = _ratio(mine, phase.ceiling_for(scenario)) if scenario in HASH_BOUND else None
            out.append(
                f"| {SCENARIOS[scenario]} | {_fmt(_ratio(mine, peer))} "
                f"| {_fmt(_ratio(phase.cpu(scenario, 'fastapi-users'), mine_cpu))} "
                f"| {_fmt(_ratio(mine, phase.rps(scenario, 'floor-storage')))} "
                f"| {_fmt(_ratio(mine, phase.rps(scenario, 'floor-bare')))} "
                f"| {_fmt(hashed)} |"
            )
        out += [
            "",
            "| server | RSS per worker at the end of the runs (MB) | 5 s later (MB) |",
            "|---|---|---|",
        ]
        for name, mbs in phase.rss_mb.items():
            busy = phase.rss_busy_mb.get(name, [])
            out.append(f"| {name} | {_megabytes(busy)} | {_megabytes(mbs)} |")
        out += ["", "| target | measured | verdict |", "|---|---:|---|"]
        out += [f"| {what} | {value} | {_verdict(ok)} |" for what, value, ok in targets(phase)]
        out.append("")
    return "\n".join(out)
