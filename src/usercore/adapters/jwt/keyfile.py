"""The signing key file: a JWK Set with private keys, private to its owner, written atomically.

Format (UTF-8 JSON)::

    {"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
               "kid": "<RFC 7638 thumbprint>", "x": "<public, base64url>",
               "d": "<private, base64url>",
               "created_at": "2026-11-25T08:00:00.000Z"}, ...]}

Every key verifies; the one with the latest ``created_at`` signs. The file
must be accessible by its owner only (mode 0600): one that others may read or
write is refused, since its keys may have leaked or been replaced.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from datetime import datetime
from pathlib import Path

from usercore.adapters.jwt.keys import KeyRing, SigningKey
from usercore.ports.tokens import SigningKeyError

_PRIVATE_FILE_MODE = 0o600
_PRIVATE_DIR_MODE = 0o700


def read_key_file(path: Path) -> KeyRing:
    """The keys in ``path``.

    Raises:
        SigningKeyError: The file is missing, unreadable, malformed, holds no
            key, or others than its owner may access it.
    """
    try:
        with path.open("rb") as file:
            _check_private(path, os.fstat(file.fileno()))
            document = json.loads(file.read())
    except FileNotFoundError:
        raise SigningKeyError(str(path), "no such file") from None
    except OSError as exc:
        raise SigningKeyError(str(path), exc.strerror or "can't be read") from None
    except (ValueError, UnicodeDecodeError):
        raise SigningKeyError(str(path), "is not a JSON JWK Set") from None
    members = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(members, list) or not members:
        raise SigningKeyError(str(path), 'holds no keys: expected {"keys": [...]}')
    try:
        return KeyRing(SigningKey.from_private_jwk(_as_mapping(jwk)) for jwk in members)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(str(path), str(exc)) from None


def create_key_file(path: Path, *, now: datetime) -> KeyRing:
    """The keys in ``path``; if there is no such file, one with a new key made at ``now``.

    Safe when several processes start at once: exactly one file is created and
    all of them read it.

    Raises:
        SigningKeyError: As :func:`read_key_file`, or the file can't be created.
    """
    if not path.exists():
        temporary = _write_private(path, [SigningKey.generate(now=now)])
        try:
            # A hard link creates the name only if it is still absent, so two
            # processes starting together can't each write their own key.
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise SigningKeyError(str(path), exc.strerror or "can't be created") from None
        finally:
            temporary.unlink(missing_ok=True)
        _sync_directory(path.parent)
    return read_key_file(path)


def add_key(path: Path, *, now: datetime) -> SigningKey:
    """Add a new key made at ``now`` to ``path`` (creating the file); it signs from now on.

    Rotations are expected one at a time (an operator's command): two running
    at the same moment may keep only one of their keys.

    Raises:
        SigningKeyError: As :func:`read_key_file`, or the file can't be written.
    """
    existing = read_key_file(path).keys if path.exists() else ()
    key = SigningKey.generate(now=now)
    temporary = _write_private(path, [*existing, key])
    try:
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SigningKeyError(str(path), exc.strerror or "can't be written") from None
    _sync_directory(path.parent)
    return key


def _write_private(path: Path, keys: list[SigningKey]) -> Path:
    """Write ``keys`` to a new owner-only file beside ``path``; return its name."""
    try:
        path.parent.mkdir(mode=_PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600 from the start, so the keys
        # are never readable by others, not even for a moment.
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SigningKeyError(str(path), exc.strerror or "can't be created") from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), _PRIVATE_FILE_MODE)
            document = {"keys": [key.private_jwk() for key in keys]}
            file.write(json.dumps(document, indent=2).encode("utf-8") + b"\n")
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SigningKeyError(str(path), exc.strerror or "can't be written") from None
    return temporary


def _check_private(path: Path, status: os.stat_result) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise SigningKeyError(
            str(path),
            f"other users may access it (mode {mode:04o}); its keys may have leaked. "
            f"Make it private with `chmod 600 {path}`, or rotate to new keys",
        )


def _sync_directory(directory: Path) -> None:
    # Makes the rename durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _as_mapping(jwk: object) -> dict[str, object]:
    if not isinstance(jwk, dict):
        raise TypeError("every member of keys must be a JSON object")
    return jwk
