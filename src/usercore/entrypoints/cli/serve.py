"""``usercore serve``: the HTTP API on Granian, with one app per worker process."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from usercore.config import ENV_PREFIX, Settings, SettingsError
from usercore.container import backend_for, build_container, resolve
from usercore.domain.ids import UserId
from usercore.entrypoints.cli.accounts import maybe_await
from usercore.ports.errors import StorageUnavailableError
from usercore.services.users import UserService

#: The app factory each worker calls (see usercore.entrypoints.http.asgi).
APP_FACTORY = "usercore.entrypoints.http.asgi:app_from_environment"
#: prometheus_client's switch to add up the metrics of every worker process.
PROMETHEUS_MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def check_tls(settings: Settings) -> tuple[Path | None, Path | None]:
    """The TLS certificate and key files, both given and readable, or neither.

    Raises:
        SettingsError: Only one is given, or one can't be read.
    """
    cert, key = settings.tls_cert_file, settings.tls_key_file
    if (cert is None) != (key is None):
        missing = "tls_key_file" if key is None else "tls_cert_file"
        raise SettingsError(missing, "TLS needs both a certificate file and a key file")
    for name, path in (("tls_cert_file", cert), ("tls_key_file", key)):
        if path is not None and not path.is_file():
            raise SettingsError(name, f"no such file: {path}")
    return cert, key


async def check_start(settings: Settings) -> None:
    """Read the signing keys and reach storage once, before any worker starts.

    An unusable key file or an out-of-date schema stops the command here with
    one line (the latter naming ``usercore migrate``); storage that does not
    answer only gets a warning, as the server answers 503 until it does.

    Raises:
        SettingsError: The signing keys can't be read or trusted.
        SchemaOutOfDateError: The schema needs ``usercore migrate``.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        await resolve(container.signing_keys())
        users: UserService = await resolve(container.user_service())
        await users.find(UserId(str(uuid.UUID(int=0))))
    except StorageUnavailableError as exc:
        print(
            f"usercore: warning: storage is not answering ({exc}); serving 503 until it does",
            file=sys.stderr,
        )
    finally:
        await maybe_await(container.shutdown_resources())


def export_settings(overrides: Mapping[str, object]) -> None:
    """Put command-line settings into ``USERCORE_*`` env vars, which the workers read.

    Flags win over the environment, so each one simply replaces its variable.
    """
    for name, value in overrides.items():
        if value is not None:
            os.environ[ENV_PREFIX + name.upper()] = str(value)


def serve(settings: Settings, overrides: Mapping[str, object]) -> int:
    """Run the server until interrupted; returns the exit status.

    Raises:
        SettingsError: A setting is unusable (checked before any worker starts).
    """
    build_container(settings)  # an unusable setting stops us here, with its name
    if settings.workers > 1 and backend_for(settings.database_url) == "memory":
        raise SettingsError("workers", "memory:// keeps its data inside one process; use 1")
    cert, key = check_tls(settings)
    log_level = _granian_level(settings.log_level)
    asyncio.run(check_start(settings))
    export_settings(overrides)
    metrics_dir = None
    metrics_port = settings.metrics_port if settings.metrics else None
    if settings.workers > 1 or metrics_port is not None:
        # Before anything imports prometheus_client, which reads this at import.
        metrics_dir = tempfile.mkdtemp(prefix="usercore-metrics-")
        os.environ[PROMETHEUS_MULTIPROC_DIR] = metrics_dir
    if metrics_port is not None:
        _serve_metrics(settings.host, metrics_port)
    # Imported only now: it loads prometheus_client, which the forked workers inherit.
    from usercore.entrypoints.http.logs import server_log_config

    try:
        Server(
            APP_FACTORY,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.ASGI,
            workers=settings.workers,
            factory=True,
            ssl_cert=cert,
            ssl_key=key,
            log_access=False,  # our own request log has the request id and no secrets
            log_level=log_level,
            log_dictconfig=server_log_config(settings.log_format),
        ).serve()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _serve_metrics(host: str, port: int) -> None:
    """Serve every worker's metrics on ``port``, from this (the parent) process.

    The workers write their counts into the multiprocess directory; a thread
    of prometheus_client's own serves their sum, so the scrape is on a
    listener of its own and never on the API's.
    """
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise SettingsError("metrics_port", f"can't listen on it: {exc.strerror}") from None


def _granian_level(level: str) -> LogLevels:
    try:
        return LogLevels(level.lower())
    except ValueError:
        raise SettingsError("log_level", f"not a log level: {level!r}") from None
