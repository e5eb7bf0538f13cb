"""The login throttle's store and secret: the database's store or Redis, and the HMAC key file."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from usercore.adapters.system import SecretFileError, create_secret_file
from usercore.config import SettingsError
from usercore.container.storage import Storage, backend_for
from usercore.ports.throttle import ThrottleStore

#: The throttle key's file name, beside the signing keys.
THROTTLE_KEY_FILE_NAME = "throttle-key"


def throttle_key_path(signing_key_file: Path | None, data_dir: Path) -> Path:
    """Where the throttle key is: beside the signing keys (by default in the data directory).

    Every node must share it, as they share the signing keys, so it lives
    wherever the operator keeps those.
    """
    directory = Path(signing_key_file).parent if signing_key_file is not None else Path(data_dir)
    return directory / THROTTLE_KEY_FILE_NAME


def open_throttle_secret(
    database_url: str, throttle_url: str | None, signing_key_file: Path | None, data_dir: Path
) -> bytes:
    """The HMAC key that turns emails into throttle keys, read once at start.

    With ``memory://`` storage and no ``throttle_url`` the counts live in
    this process only, and so does a random key. Otherwise it is read from
    (and on first start created in) :func:`throttle_key_path`.

    Raises:
        SettingsError: The key file can't be created, read or trusted; names
            the setting that places it.
    """
    if backend_for(database_url) == "memory" and not throttle_url:
        return secrets.token_bytes(32)
    path = throttle_key_path(signing_key_file, data_dir)
    try:
        return create_secret_file(path)
    except SecretFileError as exc:
        setting = "signing_key_file" if signing_key_file is not None else "data_dir"
        raise SettingsError(
            setting,
            f"{exc}; it must be a private file (mode 0600) of 32 random bytes in hex, "
            "the same on every node",
        ) from None


async def open_throttle_store(
    storage: Storage, throttle_url: str | None, pool_size: int, timeout_seconds: float
) -> AsyncIterator[ThrottleStore]:
    """The store of the login throttle counts, for the container's lifetime.

    The configured database's own store, or, with ``throttle_url`` set, Redis
    (whose client is closed on exit). The Redis driver is imported only then.

    Raises:
        SettingsError: ``throttle_url`` is unusable, or the Redis driver is not installed.
    """
    if not throttle_url:
        yield storage.throttle
        return
    try:
        from usercore.adapters.redis import RedisThrottleStore, redis_client
    except ImportError as exc:
        raise SettingsError(
            "throttle_url",
            f"its driver is not installed ({exc.name}): pip install usercore[redis]",
        ) from None
    try:
        client = redis_client(throttle_url, timeout_seconds=timeout_seconds, pool_size=pool_size)
    except ValueError as exc:
        raise SettingsError("throttle_url", str(exc)) from None
    # No I/O until first use: an unreachable server surfaces as
    # StorageUnavailableError on each call, never here at start-up.
    try:
        yield RedisThrottleStore(client, timeout_seconds=timeout_seconds)
    finally:
        await client.aclose()
