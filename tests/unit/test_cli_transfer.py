"""``usercore users export`` and ``import`` on real SQLite files, and an import killed mid-file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from usercore.domain.ids import uuid7_from_parts
from usercore.entrypoints.cli.main import main
from usercore.services.transfer.records import SCHEMA_RESOURCE

# An argon2id hash (m=1024, t=1, p=1) of "correct horse battery staple".
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("USERCORE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("USERCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("USERCORE_ARGON2_MEMORY_KIB", "1024")
    monkeypatch.setenv("USERCORE_ARGON2_TIME_COST", "1")


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def records(count: int) -> list[dict[str, Any]]:
    digest = "A" * 43
    return [
        {
            "id": str(uuid7_from_parts(1_700_000_000_000 + i, i.to_bytes(10, "big"))),
            "email": f"user{i}@example.com",
            "name": f"User {i}",
            "created_at": "2024-01-02T03:04:05.678Z",
            "updated_at": "2024-01-02T03:04:05.678Z",
            "version": 1,
            "password_hash": HASH + digest,
        }
        for i in range(count)
    ]


def write_lines(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def stored_emails(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM usercore_users ORDER BY id")]


def test_export_writes_lines_the_shipped_schema_accepts_and_import_reads_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = sqlite_url(tmp_path / "a.sqlite3")
    given = write_lines(tmp_path / "given.jsonl", records(30))
    assert main(["users", "import", str(given), "--database-url", source]) == 0
    assert "30 records: 30 imported" in capsys.readouterr().err

    exported = tmp_path / "out.jsonl"
    assert main(["users", "export", "--output", str(exported), "--database-url", source]) == 0
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert len(lines) == 30
    assert oct(exported.stat().st_mode & 0o777) == "0o600"  # every password hash is in it
    schema = json.loads(
        resources.files(SCHEMA_RESOURCE[0]).joinpath(SCHEMA_RESOURCE[1]).read_text()
    )
    for line in lines:
        jsonschema.validate(line, schema)
    assert [line["email"] for line in lines] == [r["email"] for r in records(30)]

    target = sqlite_url(tmp_path / "b.sqlite3")
    assert main(["users", "import", str(exported), "--database-url", target]) == 0
    assert main(["users", "export", "--database-url", target]) == 0
    assert capsys.readouterr().out.splitlines() == exported.read_text().splitlines()


def test_import_names_refused_lines_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = records(3)
    lines[1]["password_hash"] = "$2b$31$" + "a" * 53
    lines.append({**records(1)[0], "id": records(5)[4]["id"], "email": "USER0@example.com"})
    given = write_lines(tmp_path / "given.jsonl", lines)
    report = tmp_path / "report.jsonl"
    url = sqlite_url(tmp_path / "a.sqlite3")
    assert (
        main(["users", "import", str(given), "--report", str(report), "--database-url", url]) == 1
    )
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "line 2: refused: password_hash: bcrypt cost 31 is above the limit 14"
    assert err[1] == "line 4: refused: same email as line 1 (user0@example.com once normalised)"
    assert err[-1] == (
        "usercore: 4 records: 2 imported, 0 unchanged, 0 updated, 0 skipped, 2 refused"
    )
    statuses = [json.loads(line)["status"] for line in report.read_text().splitlines()]
    assert statuses == ["imported", "refused", "imported", "refused"]


def test_imports_a_django_dump_from_stdin_reporting_the_id_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from tests.unit.test_import_logins import django_dump

    monkeypatch.setattr("sys.stdin", io.StringIO(django_dump("!unusable")))
    report = tmp_path / "report.jsonl"
    url = sqlite_url(tmp_path / "a.sqlite3")
    argv = ["users", "import", "-", "--from", "django", "--report", str(report)]
    assert main([*argv, "--database-url", url]) == 0
    [line] = [json.loads(text) for text in report.read_text().splitlines()]
    assert (line["source_id"], line["status"]) == ("42", "imported")
    assert stored_emails(tmp_path / "a.sqlite3") == ["migrated.user@example.com"]
    capsys.readouterr()


@pytest.mark.slow
def test_an_import_killed_mid_stream_and_run_again_has_no_duplicate_and_no_loss(
    tmp_path: Path,
) -> None:
    database = tmp_path / "killed.sqlite3"
    lines = records(2000)
    given = write_lines(tmp_path / "all.jsonl", lines)
    command = [sys.executable, "-m", "usercore.entrypoints.cli.main", "users", "import", "-"]
    command += ["--batch-size", "100", "--database-url", sqlite_url(database)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(command, stdin=subprocess.PIPE, env=env, text=True)  # noqa: S603
    assert process.stdin is not None
    # Half the file, then nothing: the importer waits for more, mid-stream.
    process.stdin.write("".join(json.dumps(line) + "\n" for line in lines[:1050]))
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if database.exists() and len(_count_quietly(database)) >= 1000:
            break
        time.sleep(0.1)
    process.kill()
    process.wait(10)
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    assert 1000 <= len(stored_emails(database)) < 2000

    rerun = [*command[:5], str(given), *command[6:]]
    again = subprocess.run(rerun, check=False, env=env, capture_output=True, text=True)  # noqa: S603
    assert again.returncode == 0, again.stderr
    assert "2000 records:" in again.stderr
    assert "0 refused" in again.stderr
    emails = stored_emails(database)
    assert sorted(emails) == sorted(line["email"] for line in lines)
    assert len(set(emails)) == len(emails)


def _count_quietly(database: Path) -> list[str]:
    try:
        return stored_emails(database)
    except sqlite3.Error:
        return []


def test_the_library_round_trip_matches_the_cli(tmp_path: Path) -> None:
    import usercore

    async def both() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        async with usercore.connect("memory://", data_dir=tmp_path) as core:
            imported = [o async for o in core.users.import_users(records(3))]
            assert {o.status.value for o in imported} == {"imported"}
            return records(3), [r async for r in core.users.export_users()]

    given, exported = asyncio.run(both())
    assert [r["id"] for r in exported] == [r["id"] for r in given]
