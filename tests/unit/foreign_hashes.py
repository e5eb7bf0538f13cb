"""Hashes made by the real libraries of other systems, at low cost, for the import tests."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import bcrypt
from django.contrib.auth.hashers import (
    Argon2PasswordHasher,
    BCryptPasswordHasher,
    BCryptSHA256PasswordHasher,
    PBKDF2PasswordHasher,
    PBKDF2SHA1PasswordHasher,
    ScryptPasswordHasher,
)

#: Flask-Security's SECURITY_PASSWORD_SALT in these tests.
FLASK_SECURITY_SALT = "a flask-security salt of the app"


# Django's own hashers at test costs, the way Django's documentation suggests
# for test settings; make_password() picks them from PASSWORD_HASHERS.
class LowPbkdf2(PBKDF2PasswordHasher):
    iterations = 1000


class LowPbkdf2Sha1(PBKDF2SHA1PasswordHasher):
    iterations = 1000


class LowArgon2(Argon2PasswordHasher):
    memory_cost = 256
    time_cost = 1
    parallelism = 2


class LowBcryptSha256(BCryptSHA256PasswordHasher):
    rounds = 4


class LowBcrypt(BCryptPasswordHasher):
    rounds = 4


class LowScrypt(ScryptPasswordHasher):
    work_factor = 2**10
    parallelism = 1


_DJANGO_HASHERS = {
    "pbkdf2_sha256": LowPbkdf2,
    "pbkdf2_sha1": LowPbkdf2Sha1,
    "argon2": LowArgon2,
    "bcrypt_sha256": LowBcryptSha256,
    "bcrypt": LowBcrypt,
    "scrypt": LowScrypt,
}


def _configure_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            PASSWORD_HASHERS=[
                f"{cls.__module__}.{cls.__qualname__}" for cls in _DJANGO_HASHERS.values()
            ]
        )


def django_hash(algorithm: str, password: str | None) -> str:
    """``make_password`` with Django's hasher for ``algorithm`` (None: an unusable password)."""
    _configure_django()
    from django.contrib.auth.hashers import make_password

    return str(make_password(password, hasher=algorithm))


def passlib_hash(scheme: str, password: str) -> str:
    """A hash by passlib (the libpass fork) at a low cost."""
    from passlib import hash as schemes

    handlers: dict[str, Callable[[str], str]] = {
        "pbkdf2_sha256": schemes.pbkdf2_sha256.using(rounds=1000).hash,
        "pbkdf2_sha512": schemes.pbkdf2_sha512.using(rounds=1000).hash,
        "pbkdf2_sha1": schemes.pbkdf2_sha1.using(rounds=1000).hash,
        "scrypt": schemes.scrypt.using(rounds=8).hash,
        "bcrypt": schemes.bcrypt.using(rounds=4).hash,
        "argon2": schemes.argon2.using(rounds=1, memory_cost=256).hash,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # passlib's own deprecation notices
        return handlers[scheme](password)


def pwdlib_hash(scheme: str, password: str) -> str:
    """A hash by pwdlib, fastapi-users' hashing library."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher
    from pwdlib.hashers.bcrypt import BcryptHasher

    hasher = (
        Argon2Hasher(time_cost=1, memory_cost=256, parallelism=2)
        if scheme == "argon2"
        else BcryptHasher(rounds=4)
    )
    return PasswordHash((hasher,)).hash(password)


def bcrypt_hash(password: str, *, prefix: bytes = b"$2b$") -> str:
    """A bcrypt hash by pyca/bcrypt, with the version prefix an identity provider writes."""
    made = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4))
    return (prefix + made[4:]).decode("ascii")


class _NoDatastore:
    """Stands in for a user datastore: hashing passwords needs none."""


def flask_security_hash(scheme: str, password: str) -> str:
    """A hash by Flask-Security's ``hash_password`` (HMAC-SHA512 first, then ``scheme``)."""
    from flask import Flask
    from flask_security import Security
    from flask_security.proxies import _security
    from flask_security.utils import hash_password

    app = Flask("import-test")
    app.config.update(
        SECRET_KEY="test",
        SECURITY_PASSWORD_SALT=FLASK_SECURITY_SALT,
        # At Flask-Security's own default costs: its hash options reach passlib
        # as keywords that libpass's handlers refuse.
        SECURITY_PASSWORD_HASH=scheme,
    )
    Security(app, datastore=_NoDatastore(), register_blueprint=False)  # type: ignore[arg-type]
    with app.app_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # As its registration form does: normalise (NFKD by default), then hash.
        return str(hash_password(_security.password_util.normalize(password)))
