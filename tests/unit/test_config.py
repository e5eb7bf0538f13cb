from __future__ import annotations

from pathlib import Path

import pytest

from usercore.config import Settings, SettingsError
from usercore.container import backend_for


def test_defaults_run_out_of_the_box(tmp_path: Path) -> None:
    settings = Settings.load(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.password_min_length == 15


def test_flags_win_over_the_environment_which_wins_over_defaults() -> None:
    environ = {"USERCORE_PORT": "9000", "USERCORE_WORKERS": "3"}
    settings = Settings.load({"port": 9100, "host": None}, environ=environ)
    assert (settings.port, settings.workers, settings.host) == (9100, 3, "127.0.0.1")


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"USERCORE_PORT": "eighty"}, "USERCORE_PORT"),
        ({"USERCORE_PORT": "70000"}, "USERCORE_PORT"),
        ({"USERCORE_PASSWORD_MIN_LENGTH": "6"}, "USERCORE_PASSWORD_MIN_LENGTH"),
        ({"USERCORE_DATABASE_URL": "nonsense"}, "USERCORE_DATABASE_URL"),
        ({"USERCORE_LOG_FORMAT": "xml"}, "USERCORE_LOG_FORMAT"),
        ({"USERCORE_MIGRATE_TIMEOUT_SECONDS": "0"}, "USERCORE_MIGRATE_TIMEOUT_SECONDS"),
        (
            {"USERCORE_REFRESH_REUSE_INTERVAL_SECONDS": "301"},
            "USERCORE_REFRESH_REUSE_INTERVAL_SECONDS",
        ),
    ],
)
def test_a_bad_setting_is_named_in_one_line(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ=environ)
    message = str(caught.value)
    assert message.startswith(named)
    assert "\n" not in message


def test_an_unknown_database_scheme_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="USERCORE_DATABASE_URL: unsupported scheme 'ftp'"):
        backend_for("ftp://example.com/db")


def test_migrate_has_a_long_bound_of_its_own() -> None:
    assert Settings.load(environ={}).migrate_timeout_seconds == 3600
    environ = {"USERCORE_MIGRATE_TIMEOUT_SECONDS": "90.5"}
    assert Settings.load(environ=environ).migrate_timeout_seconds == 90.5


def test_the_refresh_reuse_interval_is_off_unless_set() -> None:
    assert Settings.load(environ={}).refresh_reuse_interval_seconds == 0
    environ = {"USERCORE_REFRESH_REUSE_INTERVAL_SECONDS": "20"}
    assert Settings.load(environ=environ).refresh_reuse_interval_seconds == 20
