"""argon2id password hashing (argon2-cffi)."""

from usercore.adapters.argon2.hasher import (
    Argon2Parameters,
    Argon2PasswordHasher,
    ForeignHashes,
    default_concurrency,
)

__all__ = ["Argon2Parameters", "Argon2PasswordHasher", "ForeignHashes", "default_concurrency"]
