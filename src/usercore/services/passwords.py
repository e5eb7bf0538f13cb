"""Password steps shared by the use cases: policy check then hash, and verification."""

from __future__ import annotations

from usercore.domain.email import Email
from usercore.domain.errors import ValidationError
from usercore.domain.passwords import (
    MAX_PASSWORD_LENGTH,
    PasswordHash,
    PasswordPolicy,
    normalize_password,
)
from usercore.ports.hashing import PasswordHasher


async def check_new_password(
    policy: PasswordPolicy, hasher: PasswordHasher, password: str, *, email: Email, name: str
) -> PasswordHash:
    """Apply the policy to a new password (with the account's context words) and hash it.

    Raises:
        WeakPasswordError: The policy refused it; nothing was hashed.
    """
    context = [email.local_part, *name.split()]
    return await hasher.hash(policy.check(password, context=context))


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
