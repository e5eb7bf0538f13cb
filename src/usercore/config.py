"""Settings: defaults that run out of the box, then ``USERCORE_*`` env vars, then flags.

Every value is read by the same strict converter whatever its source (see
:mod:`usercore.settings_values`) and checked at load: an unusable one stops
the program with one line naming the setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from usercore.domain.passwords import (
    MAX_STRENGTH_SCORE,
    MIN_PASSWORD_LENGTH_FLOOR,
    MIN_STRENGTH_SCORE,
)
from usercore.domain.throttle import MAX_DELAY_CEILING_SECONDS, MAX_FREE_FAILURES
from usercore.settings_values import (
    ENV_PREFIX,
    SettingsError,
    choice,
    closest,
    optional_path,
    optional_text,
    optional_whole,
    path,
    positive_seconds,
    read_setting,
    setting,
    switch,
    text,
    whole,
)

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "default_data_dir", "unknown_env_vars"]

#: argon2 needs at least 8 KiB of memory per lane.
ARGON2_MIN_KIB_PER_LANE = 8
_PORTS = (0, 65_535)
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Env vars of usercore's own test suite, not settings: never warned about.
_TEST_HARNESS_PREFIXES = (f"{ENV_PREFIX}TEST_", f"{ENV_PREFIX}REQUIRE_")


def default_data_dir() -> Path:
    """Where the embedded database and the generated signing key live by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "usercore"


def _embedded_database_url(settings: Settings) -> str:
    return f"sqlite+aiosqlite:///{settings.data_dir / 'usercore.sqlite3'}"


def _throttle_url(_: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(
            attribute.name,
            "must be a Redis URL such as redis://host:6379/0, or empty to use the database",
        )


def _database_url(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if "://" not in value:
        raise SettingsError(
            attribute.name,
            "must be a URL such as sqlite+aiosqlite:///path/usercore.db, "
            "postgresql+asyncpg://host/db, mongodb://host/db or memory://",
        )


@attrs.frozen
class Settings:
    """Every setting of usercore, library and server alike.

    Each is also the env var ``USERCORE_<NAME>`` (e.g. ``USERCORE_DATABASE_URL``).
    """

    data_dir: Path = setting(attrs.Factory(default_data_dir), read=path())
    database_url: str = setting(
        attrs.Factory(_embedded_database_url, takes_self=True), read=text(), check=_database_url
    )
    # Passwords and hashing.
    password_min_length: int = setting(15, read=whole(MIN_PASSWORD_LENGTH_FLOOR, 1024))
    #: zxcvbn's scale: 3 wants about 10^8 guesses, 4 about 10^10; 0 turns the estimate off.
    password_min_score: int = setting(3, read=whole(MIN_STRENGTH_SCORE, MAX_STRENGTH_SCORE))
    argon2_memory_kib: int = setting(19_456, read=whole(1))
    argon2_time_cost: int = setting(2, read=whole(1))
    argon2_parallelism: int = setting(1, read=whole(1, 255))
    #: Hashes computed at once per process; 0: the CPUs divided among the workers.
    hash_concurrency: int = setting(0, read=whole(0, 1024))
    #: Hashes that may wait per process; beyond it, requests needing one get 503.
    hash_queue_limit: int = setting(128, read=whole(1))
    # The most one stored hash may cost (imported hashes are refused above it,
    # and never computed): bcrypt cost, PBKDF2 iterations, argon2 m/t/p, scrypt 128·N·r·p.
    hash_max_bcrypt_rounds: int = setting(14, read=whole(4, 31))
    hash_max_pbkdf2_iterations: int = setting(2_000_000, read=whole(1))
    hash_max_argon2_memory_kib: int = setting(262_144, read=whole(1))
    hash_max_argon2_time_cost: int = setting(16, read=whole(1))
    hash_max_argon2_parallelism: int = setting(16, read=whole(1))
    hash_max_scrypt_memory_kib: int = setting(262_144, read=whole(1))
    #: Flask-Security's SECURITY_PASSWORD_SALT, to verify hashes imported from it.
    flask_security_password_salt: str | None = setting(None, read=optional_text(), repr=False)
    # Storage.
    db_pool_size: int = setting(10, read=whole(1))
    db_timeout_seconds: float = setting(5.0, read=positive_seconds())
    #: The bound on each step of ``usercore migrate`` (building an index on a
    #: large collection takes longer than any request may); reaching the
    #: server is still bounded by ``db_timeout_seconds``.
    migrate_timeout_seconds: float = setting(3600.0, read=positive_seconds())
    # Login throttling: free failures in a row, then a doubling delay up to this cap.
    login_free_failures: int = setting(5, read=whole(0, MAX_FREE_FAILURES))
    login_max_delay_seconds: int = setting(900, read=whole(1, MAX_DELAY_CEILING_SECONDS))
    #: Where the throttle counts live: None for the database, or a ``redis://`` URL.
    throttle_url: str | None = setting(None, read=optional_text(), check=_throttle_url)
    # Tokens.
    signing_key_file: Path | None = setting(None, read=optional_path())
    issuer: str = setting("usercore", read=text())
    audience: str = setting("usercore", read=text())
    access_token_ttl_seconds: int = setting(900, read=whole(1))
    refresh_token_ttl_seconds: int = setting(30 * 24 * 3600, read=whole(1))
    #: A session ends this long after its login, however often it is refreshed.
    session_max_age_seconds: int = setting(90 * 24 * 3600, read=whole(1))
    #: Live sessions per user; a login beyond it ends the oldest.
    max_sessions: int = setting(100, read=whole(1))
    #: Seconds after a rotation during which the previous refresh token may be
    #: presented again (a client retrying a lost answer); 0: never, reuse revokes.
    refresh_reuse_interval_seconds: int = setting(0, read=whole(0, 300))
    # Events: webhooks (comma-separated URLs, a whsec_ secret) and delivery.
    webhook_url: str | None = setting(None, read=optional_text())
    webhook_secret: str | None = setting(None, read=optional_text(), repr=False)
    webhook_timeout_seconds: float = setting(10.0, read=positive_seconds())
    #: Failed attempts at one event before it is parked (``usercore events failed``).
    event_max_attempts: int = setting(10, read=whole(1))
    #: Delivered events are deleted this long after they occurred.
    event_retention_seconds: int = setting(7 * 24 * 3600, read=whole(1))
    #: A process delivers for a subscriber under a lease this long (renewed while
    #: delivering); when the process dies, another takes over after at most this.
    event_lease_seconds: int = setting(30, read=whole(1))
    # Server.
    host: str = setting("127.0.0.1", read=text())
    port: int = setting(8000, read=whole(*_PORTS))
    workers: int = setting(1, read=whole(1, 512))
    tls_cert_file: Path | None = setting(None, read=optional_path())
    tls_key_file: Path | None = setting(None, read=optional_path())
    log_format: Literal["json", "console"] = setting("json", read=choice(("json", "console")))
    log_level: str = setting("INFO", read=choice(_LOG_LEVELS, fold=str.upper))
    #: ``/metrics`` on or off.
    metrics: bool = setting(True, read=switch())
    #: Serve ``/metrics`` on this port of its own instead of the API's listener.
    metrics_port: int | None = setting(None, read=optional_whole(1, _PORTS[1]))
    #: The OpenAPI document and Swagger UI (every page under ``/schema``) on or off.
    openapi: bool = setting(True, read=switch())

    def __attrs_post_init__(self) -> None:
        floor = ARGON2_MIN_KIB_PER_LANE * self.argon2_parallelism
        if self.argon2_memory_kib < floor:
            raise SettingsError(
                "argon2_memory_kib",
                f"must be at least {floor} (8 KiB per lane of argon2_parallelism)",
            )
        if self.metrics_port is not None and self.metrics_port == self.port:
            raise SettingsError("metrics_port", "must differ from the API's port")

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, object] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        """Defaults, then ``USERCORE_*`` env vars, then ``overrides`` (e.g. CLI flags).

        ``None`` values in ``overrides`` are ignored, so unset flags fall through.

        Raises:
            SettingsError: A value is of the wrong type or out of range, or an
                override names no setting (the message suggests the closest);
                the message names the setting as its env var.
        """
        environ = os.environ if environ is None else environ
        names = [field.name for field in attrs.fields(cls)]
        for name in overrides or {}:
            if name not in names:
                suggestion = closest(name, names)
                hint = f"; did you mean {suggestion}?" if suggestion else ""
                raise SettingsError(name, f"is not a setting{hint}", label=repr(name))
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None:
                values[field.name] = read_setting(field, raw)
            given = (overrides or {}).get(field.name)
            if given is not None:
                values[field.name] = read_setting(field, given)
        return cls(**values)


def unknown_env_vars(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line for each ``USERCORE_*`` env var that is no setting, with the closest name.

    A misspelt variable is otherwise silently ignored; the server and the
    command line print these once at start.
    """
    environ = os.environ if environ is None else environ
    known = [ENV_PREFIX + field.name.upper() for field in attrs.fields(Settings)]
    lines = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        if name.startswith(_TEST_HARNESS_PREFIXES):
            continue
        suggestion = closest(name, known)
        hint = f"; did you mean {suggestion}?" if suggestion else ""
        lines.append(f"usercore: warning: {name} is not a setting and is ignored{hint}")
    return lines
