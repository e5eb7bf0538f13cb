"""The ``usercore`` command line, in process: settings precedence, exit codes, one-line errors."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import usercore
from usercore.container.storage import BACKENDS
from usercore.domain.events import DomainEvent
from usercore.entrypoints.cli import accounts
from usercore.entrypoints.cli.main import main
from usercore.ports.errors import MigrationError

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("USERCORE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("USERCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("USERCORE_ARGON2_MEMORY_KIB", "256")
    return tmp_path


def database_url(tmp_path: Path) -> str:
    if "sqlite" in BACKENDS:
        return f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    return "memory://"


def test_prints_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as version:
        main(["--version"])
    assert version.value.code == 0
    assert capsys.readouterr().out.strip() == f"usercore {usercore.__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("serve", "migrate", "users", "keys", "sessions"):
        assert command in out


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["serve", "--port", "70000"], {}, "USERCORE_PORT"),
        (["serve"], {"USERCORE_WORKERS": "0"}, "USERCORE_WORKERS"),
        (["serve"], {"USERCORE_PORT": "eighty"}, "USERCORE_PORT"),
        (["serve", "--database-url", "nosuch://x"], {}, "USERCORE_DATABASE_URL"),
        (["serve", "--database-url", "memory://", "--workers", "2"], {}, "USERCORE_WORKERS"),
        (["serve", "--tls-cert-file", "/nonexistent.pem"], {}, "USERCORE_TLS_KEY_FILE"),
        (["migrate"], {"USERCORE_DATABASE_URL": "no-scheme"}, "USERCORE_DATABASE_URL"),
        (["serve", "--log-level", "chatty"], {}, "USERCORE_LOG_LEVEL"),
        (["serve"], {"USERCORE_LOG_FORMAT": "xml"}, "USERCORE_LOG_FORMAT"),
    ],
)
def test_bad_settings_stop_with_one_line(
    argv: list[str],
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"usercore: {named}:")


def test_flags_win_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("USERCORE_DATABASE_URL", "nosuch://x")
    assert main(["migrate", "--database-url", "memory://"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_migrate_prints_a_line_per_step_and_a_failure_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}

    async def migrate(
        database_url: str,
        pool_size: int,
        timeout_seconds: float,
        *,
        data_dir: Path,
        migrate_timeout_seconds: float,
        progress: Callable[[str], None],
    ) -> None:
        seen["timeout"] = migrate_timeout_seconds
        progress("users.email_unique: building")
        raise MigrationError("mongodb", "users.email_unique: a@example.com (2)")

    monkeypatch.setattr("usercore.entrypoints.cli.main.migrate_storage", migrate)
    monkeypatch.setenv("USERCORE_MIGRATE_TIMEOUT_SECONDS", "120")
    assert main(["migrate", "--database-url", "mongodb://127.0.0.1:1/x"]) == 1
    out, err = capsys.readouterr()
    assert out == "usercore: users.email_unique: building\n"
    assert err == "usercore: mongodb: cannot migrate: users.email_unique: a@example.com (2)\n"
    assert seen["timeout"] == 120


def test_creates_users_with_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database_url(tmp_path)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        main(
            [
                "users",
                "create",
                "--email",
                "Root@Example.com",
                "--admin",
                "--password-stdin",
                "--database-url",
                url,
            ]
        )
        == 0
    )
    user_id, email = capsys.readouterr().out.split()
    assert (len(user_id), email) == (36, "root@example.com")
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert (
        main(
            [
                "users",
                "create",
                "--email",
                "b@example.com",
                "--password-stdin",
                "--database-url",
                url,
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("usercore: Use at least 15 characters")
    assert "short" not in err.split("characters", 1)[1]
    assert err.count("\n") == 1


@pytest.mark.parametrize("weak", ["passwordpassword", "bob@example.com1"])
def test_refuses_a_weak_password_of_full_length_in_one_plain_line(
    weak: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(weak + "\n"))
    argv = ["users", "create", "--email", "bob@example.com", "--password-stdin"]
    assert main([*argv, "--database-url", "memory://"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("usercore: ")
    assert err.count("\n") == 1
    assert "guess" in err or "email address" in err
    assert weak not in err


def test_stdin_password_loses_exactly_one_newline() -> None:
    assert (
        accounts.read_password(from_stdin=True, stdin=io.StringIO("pass word\n\n")) == "pass word\n"
    )
    assert (
        accounts.read_password(from_stdin=True, stdin=io.StringIO("pass word\r\n")) == "pass word"
    )
    assert accounts.read_password(from_stdin=True, stdin=io.StringIO(" pass ")) == " pass "


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_prompts_twice_when_not_reading_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    monkeypatch.setattr("sys.stdin", _Terminal())
    assert main(["users", "create", "--email", "p@example.com", "--database-url", "memory://"]) == 1
    assert "differ" in capsys.readouterr().err


def test_never_takes_a_password_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["users", "create", "--email", "a@example.com", "--password", PASSWORD])
    assert refused.value.code == 2
    assert PASSWORD not in capsys.readouterr().out


def test_rotates_signing_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "rotate"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["keys", "rotate"]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second
    key_file = tmp_path / "signing-keys.json"
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert {first, second} <= set(json.dumps(json.loads(key_file.read_text())).split('"'))


def test_the_cli_leaves_prometheus_client_to_the_workers() -> None:
    # With several workers, prometheus_client must first be imported after
    # PROMETHEUS_MULTIPROC_DIR is set, or the forked workers count alone.
    probe = "import sys, usercore.entrypoints.cli.main; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)  # noqa: S603
    assert done.stdout.strip() == "False"


def test_an_unreadable_key_file_stops_serve_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("USERCORE_SIGNING_KEY_FILE", str(tmp_path / "missing.json"))
    assert main(["serve", "--database-url", "memory://"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usercore: USERCORE_SIGNING_KEY_FILE:")
    assert err.count("\n") == 1


def test_sessions_purge_deletes_ended_sessions_and_keeps_live_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database_url(tmp_path)

    async def two_logins_one_ended() -> tuple[str, str]:
        async with usercore.connect(url, argon2_memory_kib=256) as core:
            await core.users.register(email="ada@example.com", password=PASSWORD)
            tokens = await core.tokens()
            live = await tokens.password_grant(email="ada@example.com", password=PASSWORD)
            ended = await tokens.password_grant(email="ada@example.com", password=PASSWORD)
            await tokens.revoke(token=ended.refresh_token)
            return live.refresh_token, ended.refresh_token

    async def stored(token: str) -> bool:
        async with usercore.connect(url) as core:
            repository = core.container.session_repository
            sessions = await usercore.container.resolve(repository())
            return await sessions.get(token.partition(".")[0]) is not None

    live, ended = asyncio.run(two_logins_one_ended())
    assert main(["sessions", "purge", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() == (
        "usercore: purged 1 revoked or expired sessions and 0 stale login-throttle records"
    )
    assert asyncio.run(stored(live))
    assert not asyncio.run(stored(ended))


def refuse(event: DomainEvent) -> None:
    raise RuntimeError("the mail server is down")


def test_events_failed_lists_parked_events_and_retry_requeues_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = database_url(tmp_path)

    async def register_with_a_failing_hook() -> str:
        async with usercore.connect(
            url, on={"user.registered": refuse}, event_max_attempts=1
        ) as core:
            user = await core.users.register(email="ada@example.com", password=PASSWORD)
            return user.id.value

    user_id = asyncio.run(register_with_a_failing_hook())
    assert main(["events", "failed", "--database-url", url]) == 0
    captured = capsys.readouterr()
    [line] = captured.out.splitlines()
    assert "user.registered" in line
    assert f"user={user_id}" in line
    assert f"subscriber=hook:{__name__}.refuse" in line
    assert "attempts=1" in line
    assert "the mail server is down" in line
    assert "1 parked events" in captured.err
    assert main(["events", "retry", "--database-url", url]) == 0
    assert capsys.readouterr().out.strip() == "usercore: 1 parked events will be tried again"
    assert main(["events", "failed", "--subscriber", "nobody", "--database-url", url]) == 0
    assert capsys.readouterr().out == ""
