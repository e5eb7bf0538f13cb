"""The ASGI entry point of ``usercore serve``: each server worker builds its app from settings."""

from __future__ import annotations

from litestar import Litestar

from usercore.config import Settings
from usercore.container import build_container
from usercore.entrypoints.http.app import create_app
from usercore.entrypoints.http.logs import configure_logging


def app_from_environment() -> Litestar:
    """The app of one server worker, configured by ``USERCORE_*`` env vars.

    ``usercore serve`` puts its flags into the environment before starting the
    workers, so every worker sees the same settings as the command line.
    """
    settings = Settings.load()
    configure_logging(log_format=settings.log_format, level=settings.log_level)
    return create_app(build_container(settings))
