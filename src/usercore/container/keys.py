"""Signing keys for the container: read at start, made on first start, rotated by the CLI."""

from __future__ import annotations

from pathlib import Path

from usercore.adapters.jwt import KeyRing, SigningKey, add_key, create_key_file, read_key_file
from usercore.adapters.system import SystemClock
from usercore.config import Settings, SettingsError
from usercore.container.storage import backend_for
from usercore.ports.tokens import SigningKeyError

#: The key file's name in the data directory when ``signing_key_file`` is unset.
DEFAULT_KEY_FILE_NAME = "signing-keys.json"


def signing_key_path(settings: Settings) -> Path:
    """Where the signing keys are: ``signing_key_file``, else ``<data_dir>/signing-keys.json``."""
    if settings.signing_key_file is not None:
        return settings.signing_key_file
    return settings.data_dir / DEFAULT_KEY_FILE_NAME


def open_signing_keys(
    signing_key_file: Path | None, data_dir: Path, *, database_url: str
) -> KeyRing:
    """The signing keys, read once at start.

    A configured ``signing_key_file`` must exist; without one, the file in the
    data directory is created with a new key on first start. ``memory://``
    storage keeps nothing on disk, so without a configured file its key lives
    in memory too (tokens end with the process, like everything else).

    Raises:
        SettingsError: The keys can't be read or trusted; names ``signing_key_file``.
    """
    try:
        if signing_key_file is not None:
            return read_key_file(Path(signing_key_file))
        if backend_for(database_url) == "memory":
            return KeyRing([SigningKey.generate(now=SystemClock().now())])
        return create_key_file(Path(data_dir) / DEFAULT_KEY_FILE_NAME, now=SystemClock().now())
    except SigningKeyError as exc:
        raise SettingsError("signing_key_file", str(exc)) from None


def rotate_signing_keys(settings: Settings) -> str:
    """Add a new signing key (``usercore keys rotate``); it signs from the next start on.

    The old keys stay in the file and keep verifying tokens until removed from it.

    Returns:
        The new key's id (``kid``).

    Raises:
        SettingsError: The key file can't be read, trusted or written.
    """
    try:
        return add_key(signing_key_path(settings), now=SystemClock().now()).kid
    except SigningKeyError as exc:
        raise SettingsError("signing_key_file", str(exc)) from None
