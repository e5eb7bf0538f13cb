"""usercore: the user management core for Python applications.

Start with :func:`connect`::

    async with usercore.connect("memory://") as core:
        user = await core.users.register(email="ada@example.com", password="...")
"""

from importlib.metadata import PackageNotFoundError, version

from usercore.config import Settings, SettingsError
from usercore.container import UserCore, connect

try:
    __version__ = version("usercore")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["Settings", "SettingsError", "UserCore", "__version__", "connect"]
