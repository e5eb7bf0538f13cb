"""Password steps shared by the use cases: the rules a new one must pass, hashing, verification."""

from __future__ import annotations

import attrs

from usercore.domain.email import Email
from usercore.domain.errors import ValidationError
from usercore.domain.passwords import (
    MAX_PASSWORD_LENGTH,
    PasswordHash,
    PasswordPolicy,
    account_words,
    normalize_password,
)
from usercore.ports.hashing import PasswordHasher
from usercore.ports.strength import PasswordStrengthEstimator


@attrs.frozen
class PasswordRules:
    """What a new password must pass: the domain's policy, judged with a strength estimate.

    Attributes:
        policy: Length, context words and the lowest strength score accepted.
        estimator: Estimates the strength, with the account's words and the
            service's name as what an attacker would try first.
    """

    policy: PasswordPolicy
    estimator: PasswordStrengthEstimator

    async def check(self, password: str, *, email: Email, name: str) -> str:
        """Check a new password of the account ``email``/``name``; return it normalised.

        Raises:
            WeakPasswordError: With every reason it was refused.
        """
        words = account_words(email, name)
        normalized = self.policy.normalize(password)
        estimate = await self.estimator.estimate(
            normalized, context=(*words, self.policy.service_name)
        )
        return self.policy.check(normalized, context=words, estimate=estimate)


async def check_new_password(
    rules: PasswordRules, hasher: PasswordHasher, password: str, *, email: Email, name: str
) -> PasswordHash:
    """Apply the rules to a new password (with the account's context words) and hash it.

    Raises:
        WeakPasswordError: The rules refused it; nothing was hashed.
    """
    return await hasher.hash(await rules.check(password, email=email, name=name))


def check_password_length(password: str, *, field: str = "password") -> None:
    """Refuse a password no account can have, before any hashing.

    Raises:
        ValidationError: It is longer than any policy allows.
    """
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_PASSWORD_LENGTH} characters")


async def verify_password(
    hasher: PasswordHasher, password_hash: PasswordHash, password: str
) -> bool:
    """Whether ``password`` (as typed) matches ``password_hash``."""
    check_password_length(password)
    return await hasher.verify(password_hash, normalize_password(password))
