"""``usercore users export`` and ``usercore users import``: users out as JSON Lines, and back in."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TextIO

from usercore.config import Settings
from usercore.container import build_container, resolve
from usercore.entrypoints.cli.accounts import maybe_await
from usercore.services.transfer import (
    DEFAULT_BATCH_SIZE,
    SOURCES,
    ImportOutcome,
    ImportStatus,
    ImportSummary,
    OnConflict,
    read_records,
)
from usercore.services.users import UserService

#: Skipped records named one by one on stderr before only counting the rest.
_SHOWN_SKIPS = 20


def add_transfer_commands(users: Any, database_flag: Any) -> None:
    """Add ``export`` and ``import`` to the ``usercore users`` sub-commands."""
    export = users.add_parser(
        "export", help="write every user (password hash included) as JSON Lines"
    )
    export.add_argument("--output", "-o", help="file to write (default: stdout)")
    database_flag(export)
    load = users.add_parser(
        "import", help="read users from an export of usercore or of another system"
    )
    load.add_argument("file", metavar="FILE", help="the file to read, or - for stdin")
    load.add_argument(
        "--from", dest="source", choices=SOURCES, default="usercore", help="its format"
    )
    load.add_argument(
        "--on-conflict",
        dest="on_conflict",
        choices=[choice.value for choice in OnConflict],
        default=OnConflict.SKIP.value,
        help="a record whose id or email is stored with other values: skip it (default), "
        "update the stored user, or stop",
    )
    load.add_argument("--batch-size", dest="batch_size", type=int, default=DEFAULT_BATCH_SIZE)
    load.add_argument(
        "--report",
        help="write one JSON line per record (line, status, id, source_id, reason): "
        "the mapping of foreign ids to usercore ids",
    )
    database_flag(load)


async def export_users(settings: Settings, *, output: str | None) -> int:
    """Write every user to ``output`` (stdout when None); returns how many.

    A file is written beside its final name and renamed when complete, so an
    interrupted export never leaves a file that looks whole.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        users: UserService = await resolve(container.user_service())
        with _destination(output) as out, _progress("exported") as advance:
            count = 0
            async for record in users.export_users():
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
                advance()
        return count
    finally:
        await maybe_await(container.shutdown_resources())


async def import_users(settings: Settings, args: argparse.Namespace) -> ImportSummary:
    """Import ``args.file`` and print what happened; the summary decides the exit status."""
    container = build_container(settings)
    await maybe_await(container.init_resources())
    summary = ImportSummary()
    try:
        users: UserService = await resolve(container.user_service())
        with (
            _source(args.file) as stream,
            _report(args.report) as report,
            _progress("read") as advance,
        ):
            records = read_records(stream, args.source)
            outcomes = users.import_users(
                records, on_conflict=args.on_conflict, batch_size=args.batch_size
            )
            async for outcome in _counted(outcomes, advance):
                summary.add(outcome)
                _tell(outcome, summary)
                if report is not None:
                    report.write(json.dumps(_report_line(outcome), ensure_ascii=False) + "\n")
    finally:
        await maybe_await(container.shutdown_resources())
    skipped = summary.counts[ImportStatus.SKIPPED]
    if skipped > _SHOWN_SKIPS:
        print(f"usercore: ... and {skipped - _SHOWN_SKIPS} more skipped", file=sys.stderr)
    print(f"usercore: {summary}", file=sys.stderr)
    return summary


def _tell(outcome: ImportOutcome, summary: ImportSummary) -> None:
    if outcome.status is ImportStatus.REFUSED or (
        outcome.status is ImportStatus.SKIPPED
        and summary.counts[ImportStatus.SKIPPED] <= _SHOWN_SKIPS
    ):
        print(f"line {outcome.line}: {outcome.status.value}: {outcome.reason}", file=sys.stderr)


def _report_line(outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "line": outcome.line,
        "status": outcome.status.value,
        "id": outcome.user_id,
        "email": outcome.email,
        "source_id": outcome.source_id,
        "reason": outcome.reason,
    }


async def _counted(
    outcomes: AsyncIterator[ImportOutcome], advance: Any
) -> AsyncIterator[ImportOutcome]:
    async for outcome in outcomes:
        advance()
        yield outcome


@contextlib.contextmanager
def _destination(output: str | None) -> Iterator[TextIO]:
    if output is None or output == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    final = Path(output)
    partial = final.with_name(f".{final.name}.partial")
    # Every user's password hash is in it: readable by its owner only, whatever the umask.
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with open(descriptor, "w", encoding="utf-8") as out:
        yield out
        out.flush()
        os.fsync(out.fileno())
    partial.replace(final)


@contextlib.contextmanager
def _source(name: str) -> Iterator[TextIO]:
    if name == "-":
        yield sys.stdin
        return
    with Path(name).open(encoding="utf-8", newline="") as stream:
        yield stream


@contextlib.contextmanager
def _report(name: str | None) -> Iterator[TextIO | None]:
    if name is None:
        yield None
        return
    with Path(name).open("w", encoding="utf-8") as out:
        yield out


@contextlib.contextmanager
def _progress(verb: str) -> Iterator[Any]:
    """A live count on stderr when it is a terminal; nothing at all otherwise."""
    if not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import (
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (SpinnerColumn(), TextColumn(f"users {verb}"), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), transient=True) as progress:
        task = progress.add_task(verb, total=None)
        yield lambda: progress.advance(task)
