"""Settings: defaults that run out of the box, then ``USERCORE_*`` env vars, then flags."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, cast

import attrs

from usercore.domain.errors import UserCoreError
from usercore.domain.passwords import MIN_PASSWORD_LENGTH_FLOOR
from usercore.domain.throttle import MAX_DELAY_CEILING_SECONDS, MAX_FREE_FAILURES

ENV_PREFIX = "USERCORE_"


class SettingsError(UserCoreError):
    """A setting has a value usercore can't use; the message names the setting."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{ENV_PREFIX}{name.upper()}: {message}")
        self.name = name


def default_data_dir() -> Path:
    """Where the embedded database and the generated signing key live by default."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "usercore"


def _embedded_database_url(settings: Settings) -> str:
    return f"sqlite+aiosqlite:///{settings.data_dir / 'usercore.sqlite3'}"


def _optional_path(value: str | Path | None) -> Path | None:
    return None if value is None or value == "" else Path(value)


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise SettingsError(attribute.name, "must be a whole number of at least 1")


def _port(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 65_535:  # noqa: PLR2004 - the TCP port range
        raise SettingsError(attribute.name, "must be a TCP port number, 0 to 65535")


def _min_password_length(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < MIN_PASSWORD_LENGTH_FLOOR:
        raise SettingsError(attribute.name, f"must be at least {MIN_PASSWORD_LENGTH_FLOOR}")


def _between(low: int, high: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_: object, attribute: attrs.Attribute[int], value: int) -> None:
        if not low <= value <= high:
            raise SettingsError(attribute.name, f"must be a whole number from {low} to {high}")

    return check


def _optional_str(value: str | None) -> str | None:
    return None if value is None or value == "" else value


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

    data_dir: Path = attrs.field(factory=default_data_dir, converter=Path)
    database_url: str = attrs.field(
        default=attrs.Factory(_embedded_database_url, takes_self=True), validator=_database_url
    )
    # Passwords and hashing.
    password_min_length: int = attrs.field(default=15, validator=_min_password_length)
    argon2_memory_kib: int = attrs.field(default=19_456, validator=_positive)
    argon2_time_cost: int = attrs.field(default=2, validator=_positive)
    argon2_parallelism: int = attrs.field(default=1, validator=_positive)
    #: Hashes computed at once per process; 0: the CPUs divided among the workers.
    hash_concurrency: int = attrs.field(default=0)
    #: Hashes that may wait per process; beyond it, requests needing one get 503.
    hash_queue_limit: int = attrs.field(default=128, validator=_positive)
    # Storage.
    db_pool_size: int = attrs.field(default=10, validator=_positive)
    db_timeout_seconds: float = 5.0
    # Login throttling: free failures in a row, then a doubling delay up to this cap.
    login_free_failures: int = attrs.field(default=5, validator=_between(0, MAX_FREE_FAILURES))
    login_max_delay_seconds: int = attrs.field(
        default=900, validator=_between(1, MAX_DELAY_CEILING_SECONDS)
    )
    #: Where the throttle counts live: None for the database, or a ``redis://`` URL.
    throttle_url: str | None = attrs.field(
        default=None, converter=_optional_str, validator=_throttle_url
    )
    # Tokens.
    signing_key_file: Path | None = attrs.field(default=None, converter=_optional_path)
    issuer: str = "usercore"
    audience: str = "usercore"
    access_token_ttl_seconds: int = attrs.field(default=900, validator=_positive)
    refresh_token_ttl_seconds: int = attrs.field(default=30 * 24 * 3600, validator=_positive)
    #: A session ends this long after its login, however often it is refreshed.
    session_max_age_seconds: int = attrs.field(default=90 * 24 * 3600, validator=_positive)
    #: Live sessions per user; a login beyond it ends the oldest.
    max_sessions: int = attrs.field(default=100, validator=_positive)
    # Events: webhooks (comma-separated URLs, a whsec_ secret) and delivery.
    webhook_url: str | None = attrs.field(default=None, converter=_optional_str)
    webhook_secret: str | None = attrs.field(default=None, converter=_optional_str, repr=False)
    webhook_timeout_seconds: float = 10.0
    #: Failed attempts at one event before it is parked (``usercore events failed``).
    event_max_attempts: int = attrs.field(default=10, validator=_positive)
    #: Delivered events are deleted this long after they occurred.
    event_retention_seconds: int = attrs.field(default=7 * 24 * 3600, validator=_positive)
    #: A process delivers for a subscriber under a lease this long (renewed while
    #: delivering); when the process dies, another takes over after at most this.
    event_lease_seconds: int = attrs.field(default=30, validator=_positive)
    # Server.
    host: str = "127.0.0.1"
    port: int = attrs.field(default=8000, validator=_port)
    workers: int = attrs.field(default=1, validator=_positive)
    tls_cert_file: Path | None = attrs.field(default=None, converter=_optional_path)
    tls_key_file: Path | None = attrs.field(default=None, converter=_optional_path)
    log_format: Literal["json", "console"] = attrs.field(
        default="json", validator=attrs.validators.in_(("json", "console"))
    )
    log_level: str = "INFO"

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
            SettingsError: A value is of the wrong type or out of range; the
                message names the setting as its env var.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None:
                values[field.name] = _convert(field, raw)
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return cls(**values)
        except SettingsError:
            raise
        except (TypeError, ValueError) as exc:
            raise SettingsError(_name_in(exc, values), str(exc)) from None


def _convert(field: attrs.Attribute[Any], raw: str) -> object:
    kind = cast("type | str | None", field.type)
    parsers: dict[object, Callable[[str], object]] = {
        "int": int,
        "float": float,
        int: int,
        float: float,
    }
    parser = parsers.get(kind)
    if parser is None:
        return raw
    try:
        return parser(raw)
    except ValueError:
        raise SettingsError(field.name, f"must be a number, not {raw!r}") from None


def _name_in(exc: Exception, values: Mapping[str, object]) -> str:
    text = str(exc)
    for name in values:
        if name in text:
            return name
    return "settings"
