"""A secret key file: random bytes, hex-encoded, private to their owner, made once.

Format: the key as lower-case hex (at least 64 digits, 32 bytes) and a
newline. The file must be accessible by its owner only (mode 0600): one that
others may read or write is refused, since the key may have leaked or been
replaced.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from pathlib import Path

from usercore.domain.errors import UserCoreError

#: Bytes of randomness in a new key, and the fewest a file may hold.
SECRET_BYTES = 32

_PRIVATE_FILE_MODE = 0o600
_PRIVATE_DIR_MODE = 0o700
#: A key file is a line of hex; anything much longer is not one.
_MAX_FILE_BYTES = 4096


class SecretFileError(UserCoreError):
    """A secret key file can't be read, written or trusted.

    Attributes:
        path: The file concerned.
        reason: What is wrong, in words an operator can act on.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"secret key file {path}: {reason}")
        self.path = path
        self.reason = reason


def read_secret_file(path: Path) -> bytes:
    """The key in ``path``.

    Raises:
        SecretFileError: The file is missing, unreadable, not hex, shorter than
            32 bytes, or others than its owner may access it.
    """
    try:
        with path.open("rb") as file:
            _check_private(path, os.fstat(file.fileno()))
            text = file.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SecretFileError(path, "no such file") from None
    except OSError as exc:
        raise SecretFileError(path, exc.strerror or "can't be read") from None
    try:
        key = bytes.fromhex(text.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise SecretFileError(path, "is not a hex-encoded key") from None
    if len(text) > _MAX_FILE_BYTES or len(key) < SECRET_BYTES:
        raise SecretFileError(path, f"must hold one key of at least {SECRET_BYTES} bytes")
    return key


def create_secret_file(path: Path) -> bytes:
    """The key in ``path``; if there is no such file, one with a new random key.

    Safe when several processes start at once: exactly one file is created
    and all of them read it.

    Raises:
        SecretFileError: As :func:`read_secret_file`, or the file can't be created.
    """
    if not path.exists():
        temporary = _write_private(path, secrets.token_bytes(SECRET_BYTES))
        try:
            # A hard link creates the name only if it is still absent, so two
            # processes starting together can't each write their own key.
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError as exc:
            raise SecretFileError(path, exc.strerror or "can't be created") from None
        finally:
            temporary.unlink(missing_ok=True)
        _sync_directory(path.parent)
    return read_secret_file(path)


def _write_private(path: Path, key: bytes) -> Path:
    """Write ``key`` to a new owner-only file beside ``path``; return its name."""
    try:
        path.parent.mkdir(mode=_PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600 from the start, so the key
        # is never readable by others, not even for a moment.
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise SecretFileError(path, exc.strerror or "can't be created") from None
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            os.fchmod(file.fileno(), _PRIVATE_FILE_MODE)
            file.write(key.hex().encode("ascii") + b"\n")
            file.flush()
            os.fsync(file.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SecretFileError(path, exc.strerror or "can't be written") from None
    return temporary


def _check_private(path: Path, status: os.stat_result) -> None:
    if os.name != "posix":
        return
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise SecretFileError(
            path,
            f"other users may access it (mode {mode:04o}); its key may have leaked. "
            f"Make it private with `chmod 600 {path}`, or delete it for a new key",
        )


def _sync_directory(directory: Path) -> None:
    # Makes the new name durable; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
