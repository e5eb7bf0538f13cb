"""ForeignHashVerifier: checks and verifies hashes made by other systems, never makes one."""

from __future__ import annotations

from usercore.adapters.foreign_hashes.algorithms import ForeignHash
from usercore.adapters.foreign_hashes.formats import parse
from usercore.adapters.foreign_hashes.limits import HashLimits
from usercore.ports.hashing import UnsupportedHashError


class ForeignHashVerifier:
    """Verifies the hash formats of Django, passlib, pwdlib, bcrypt and Flask-Security.

    Its methods block (verification is as slow as the foreign algorithm makes
    it): a password hasher calls :meth:`verify` on its own threads, off the
    event loop. Hashes above ``limits`` are never computed.

    Args:
        limits: The most a hash may cost.
        flask_security_key: Flask-Security's ``SECURITY_PASSWORD_SALT``, for
            hashes imported from it with their HMAC first step.
    """

    def __init__(
        self, limits: HashLimits | None = None, *, flask_security_key: bytes | None = None
    ) -> None:
        self.limits = limits or HashLimits()
        self._flask_security_key = flask_security_key

    def check(self, encoded: str) -> None:
        """Return when ``encoded`` is a hash :meth:`verify` computes.

        Raises:
            UnsupportedHashError: Unknown, weak, malformed, or above the limits.
        """
        self._parsed(encoded)

    def verify(self, encoded: str, password: bytes) -> bool:
        """Whether ``password`` matches; False (never an error) for a hash :meth:`check` refuses."""
        try:
            parsed = self._parsed(encoded)
        except UnsupportedHashError:
            return False
        return parsed.verify(password)

    def _parsed(self, encoded: str) -> ForeignHash:
        parsed = parse(encoded, flask_security_key=self._flask_security_key)
        reason = parsed.over_limits(self.limits)
        if reason is not None:
            raise UnsupportedHashError(reason)
        return parsed
