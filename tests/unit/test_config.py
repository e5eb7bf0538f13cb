from __future__ import annotations

from pathlib import Path

import pytest

from usercore.config import Settings, SettingsError, unknown_env_vars
from usercore.container import backend_for


def test_defaults_run_out_of_the_box(tmp_path: Path) -> None:
    settings = Settings.load(environ={"XDG_DATA_HOME": str(tmp_path)})
    assert settings.port == 8000
    assert settings.host == "127.0.0.1"
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.password_min_length == 15
    assert settings.password_min_score == 3


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
        ({"USERCORE_PASSWORD_MIN_SCORE": "5"}, "USERCORE_PASSWORD_MIN_SCORE"),
        ({"USERCORE_PASSWORD_MIN_SCORE": "-1"}, "USERCORE_PASSWORD_MIN_SCORE"),
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


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"db_timeout_seconds": -1}, "USERCORE_DB_TIMEOUT_SECONDS"),
        ({"db_timeout_seconds": 0}, "USERCORE_DB_TIMEOUT_SECONDS"),
        ({"db_timeout_seconds": float("nan")}, "USERCORE_DB_TIMEOUT_SECONDS"),
        ({"issuer": ""}, "USERCORE_ISSUER"),
        ({"audience": "  "}, "USERCORE_AUDIENCE"),
        ({"argon2_memory_kib": 1}, "USERCORE_ARGON2_MEMORY_KIB"),
        ({"argon2_memory_kib": 16, "argon2_parallelism": 4}, "USERCORE_ARGON2_MEMORY_KIB"),
        ({"log_level": "LOUD"}, "USERCORE_LOG_LEVEL"),
        ({"hash_concurrency": -3}, "USERCORE_HASH_CONCURRENCY"),
        ({"port": True}, "USERCORE_PORT"),
        ({"workers": 2.5}, "USERCORE_WORKERS"),
        ({"metrics": "maybe"}, "USERCORE_METRICS"),
        ({"metrics_port": 8000}, "USERCORE_METRICS_PORT"),
        ({"data_dir": 42}, "USERCORE_DATA_DIR"),
    ],
)
def test_every_setting_is_checked_whatever_its_source(
    overrides: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(overrides, environ={})
    message = str(caught.value)
    assert message.startswith(named + ": ")
    assert "\n" not in message
    assert "Attribute(" not in message


def test_text_from_the_environment_and_from_keywords_reads_the_same() -> None:
    environ = {"USERCORE_PASSWORD_MIN_LENGTH": "12", "USERCORE_METRICS": "off"}
    from_env = Settings.load(environ=environ)
    from_keywords = Settings.load({"password_min_length": "12", "metrics": "off"}, environ={})
    typed = Settings.load({"password_min_length": 12, "metrics": False}, environ={})
    assert from_env == from_keywords == typed
    assert (typed.password_min_length, typed.metrics) == (12, False)


def test_enumerated_settings_list_their_choices_in_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load(environ={"USERCORE_LOG_FORMAT": "xml"})
    assert str(caught.value) == "USERCORE_LOG_FORMAT: must be one of json, console, not 'xml'"


def test_an_unknown_keyword_is_refused_with_the_closest_name() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.load({"pasword_min_length": 12}, environ={})
    assert str(caught.value) == (
        "'pasword_min_length': is not a setting; did you mean password_min_length?"
    )


def test_misspelt_env_vars_are_named_with_the_closest_setting() -> None:
    environ = {
        "USERCORE_PASWORD_MIN_LENGTH": "12",
        "USERCORE_PORT": "9000",
        "USERCORE_REQUIRE_POSTGRES": "1",  # the test suite's own switches are no settings
        "USERCORE_ZZZ": "1",
        "HOME": "/root",
    }
    assert unknown_env_vars(environ) == [
        "usercore: warning: USERCORE_PASWORD_MIN_LENGTH is not a setting and is ignored; "
        "did you mean USERCORE_PASSWORD_MIN_LENGTH?",
        "usercore: warning: USERCORE_ZZZ is not a setting and is ignored",
    ]


def test_constructing_settings_directly_takes_typed_values_only() -> None:
    assert Settings(db_timeout_seconds=2).db_timeout_seconds == 2
    with pytest.raises(SettingsError, match="USERCORE_PORT"):
        Settings(port="8000")  # type: ignore[arg-type]


def test_migrate_has_a_long_bound_of_its_own() -> None:
    assert Settings.load(environ={}).migrate_timeout_seconds == 3600
    environ = {"USERCORE_MIGRATE_TIMEOUT_SECONDS": "90.5"}
    assert Settings.load(environ=environ).migrate_timeout_seconds == 90.5


def test_the_refresh_reuse_interval_is_off_unless_set() -> None:
    assert Settings.load(environ={}).refresh_reuse_interval_seconds == 0
    environ = {"USERCORE_REFRESH_REUSE_INTERVAL_SECONDS": "20"}
    assert Settings.load(environ=environ).refresh_reuse_interval_seconds == 20
