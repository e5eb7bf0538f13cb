"""The PasswordStrengthEstimator port: how hard a new password is to guess."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from usercore.domain.passwords import StrengthEstimate


class PasswordStrengthEstimator(Protocol):
    """Estimates how many guesses an attacker would need for a password.

    Passwords arrive already NFC-normalised and at most
    :data:`~usercore.domain.passwords.MAX_PASSWORD_LENGTH` long. An
    implementation may judge a long password by parts of it, as long as it
    never rates the whole stronger than some part of it was rated.
    """

    async def estimate(self, password: str, *, context: Sequence[str]) -> StrengthEstimate:
        """The strength of ``password`` against an attacker who knows ``context``.

        Args:
            password: The normalised password.
            context: Words tied to the account and the service (the email and
                its parts, the name, the service's name) that an attacker
                would try first.

        Returns:
            The score with plain-words feedback that never quotes the password
            or the context words. Never raises for any password.
        """
        ...
