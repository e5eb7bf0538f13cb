"""The composition root: builds services from settings, and the library's front door."""

from usercore.container.core import Container, build_container
from usercore.container.events import subscribe
from usercore.container.facade import (
    UserCore,
    connect,
    resolve,
    start_resources,
    stop_resources,
)
from usercore.container.keys import rotate_signing_keys
from usercore.container.storage import Storage, backend_for, migrate_storage

__all__ = [
    "Container",
    "Storage",
    "UserCore",
    "backend_for",
    "build_container",
    "connect",
    "migrate_storage",
    "resolve",
    "rotate_signing_keys",
    "start_resources",
    "stop_resources",
    "subscribe",
]
