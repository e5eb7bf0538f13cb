"""Operator commands: find, change and delete accounts from the command line, as the operator."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.unit.test_cli import PASSWORD, clean_environment, database_url
from usercore.entrypoints.cli.main import main

__all__ = ["clean_environment"]  # the autouse fixture of test_cli, for these tests too

NEW_PASSWORD = "an operator's chosen passphrase"


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    url = database_url(tmp_path)
    for email in ("ada@example.com", "grace@example.com"):
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        argv = ["users", "create", "--email", email, "--password-stdin", "--database-url", url]
        assert main(argv) == 0
    capsys.readouterr()
    return url


def _run(url: str, *argv: str) -> int:
    return main([*argv, "--database-url", url])


def test_lists_and_shows_users_as_text_or_json(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(url, "users", "list", "--json") == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [user["email"] for user in listed] == ["ada@example.com", "grace@example.com"]
    assert "password_hash" not in listed[0]
    assert _run(url, "users", "list", "--email-prefix", "gr") == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(listed[1]["id"] + " grace@example.com user active")
    assert _run(url, "users", "show", listed[0]["id"], "--json") == 0
    assert json.loads(capsys.readouterr().out) == listed[0]
    assert _run(url, "users", "show", "ADA@Example.com") == 0
    assert "ada@example.com" in capsys.readouterr().out


def test_grants_revokes_deactivates_activates_and_deletes(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(url, "users", "grant", "ada@example.com", "admin") == 0
    assert " admin,user active " in capsys.readouterr().out
    assert _run(url, "users", "revoke", "ada@example.com", "admin") == 0
    assert " user active " in capsys.readouterr().out
    assert _run(url, "users", "deactivate", "ada@example.com") == 0
    assert " user inactive " in capsys.readouterr().out
    assert _run(url, "users", "activate", "ada@example.com") == 0
    assert " user active " in capsys.readouterr().out
    assert _run(url, "users", "delete", "grace@example.com") == 0
    assert capsys.readouterr().out.startswith("deleted ")
    assert _run(url, "users", "show", "grace@example.com") == 1
    assert capsys.readouterr().err == "usercore: user grace@example.com not found\n"


def test_set_password_replaces_it_and_judges_it(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("aaaaaaaaaaaaaaaa\n"))
    assert _run(url, "users", "set-password", "ada@example.com", "--password-stdin") == 1
    assert capsys.readouterr().err.startswith("usercore: ")
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert _run(url, "users", "set-password", "ada@example.com", "--password-stdin") == 0


def test_a_bad_user_reference_is_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(url, "users", "show", "not-an-id") == 1
    assert capsys.readouterr().err == ("usercore: user: must be a user id (a UUID) or an email\n")


def test_without_a_terminal_or_password_stdin_there_is_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A script or a container's entrypoint: no TTY, and stdin closed.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    argv = ["users", "create", "--email", "x@example.com", "--database-url", database_url(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("usercore: ")
    assert "--password-stdin" in err
    assert err.count("\n") == 1
