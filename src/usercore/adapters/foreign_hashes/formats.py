"""Reading the stored formats of Django, passlib, pwdlib, bcrypt and Flask-Security hashes.

Every parser is strict: a truncated hash, a salt or digest that is not the
encoding its format uses, a digest of the wrong length or a cost that is not
a plain number is refused here, with a reason, instead of failing (or
hanging) at a login later.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import unicodedata

from argon2.low_level import Type

from usercore.adapters.foreign_hashes.algorithms import (
    Argon2Hash,
    BcryptHash,
    ForeignHash,
    Pbkdf2Hash,
    Prepare,
    ScryptHash,
    unchanged,
)
from usercore.ports.hashing import UnsupportedHashError

#: What Flask-Security puts before the hash it stores, in usercore: see flask_security_prepare.
FLASK_SECURITY_PREFIX = "flask-security$"

_BCRYPT = re.compile(rb"\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}")
_NUMBER = re.compile(r"[1-9][0-9]{0,18}")
_DIGEST_SIZES = {"sha1": 20, "sha256": 32, "sha512": 64}
_ARGON2_TYPES = {"argon2i": Type.I, "argon2d": Type.D, "argon2id": Type.ID}
_ARGON2_VERSIONS = {"v=16", "v=19"}
_MIN_SALT_BYTES = 8
_MIN_DIGEST_BYTES = 16
_WEAK = ("md5$", "sha1$", "unsalted_md5$", "unsalted_sha1$", "crypt$", "$1$", "$apr1$")
_UNSUPPORTED = ("$5$", "$6$", "$bcrypt-sha256$", "$sha1$", "$md5$", "{")


def parse(encoded: str, *, flask_security_key: bytes | None) -> ForeignHash:
    """The parts of a stored hash of any format accepted from other systems.

    Args:
        encoded: The hash as stored.
        flask_security_key: Flask-Security's ``SECURITY_PASSWORD_SALT``, for
            hashes stored with :data:`FLASK_SECURITY_PREFIX`; None when none is set.

    Raises:
        UnsupportedHashError: Unknown, weak or malformed.
    """
    if encoded.startswith(FLASK_SECURITY_PREFIX):
        if flask_security_key is None:
            raise UnsupportedHashError(
                "a Flask-Security hash needs its SECURITY_PASSWORD_SALT: set "
                "USERCORE_FLASK_SECURITY_PASSWORD_SALT"
            )
        inner = encoded[len(FLASK_SECURITY_PREFIX) :]
        return _parse(inner, flask_security_prepare(flask_security_key))
    return _parse(encoded, unchanged)


def flask_security_prepare(key: bytes) -> Prepare:
    """Flask-Security's first hash: base64 of HMAC-SHA512 keyed by ``SECURITY_PASSWORD_SALT``.

    Flask-Security also normalises passwords to NFKD (its default
    ``SECURITY_PASSWORD_NORMALIZE_FORM``) before that; usercore hands
    hashers NFC, so the password is brought to NFKD here first.
    """

    def prepare(password: bytes) -> bytes:
        text = password.decode("utf-8", "surrogatepass")
        normalised = unicodedata.normalize("NFKD", text).encode("utf-8", "surrogatepass")
        return base64.b64encode(hmac.new(key, normalised, hashlib.sha512).digest())

    return prepare


def _parse(encoded: str, prepare: Prepare) -> ForeignHash:
    if not encoded.isascii():
        raise UnsupportedHashError("a password hash is ASCII text")
    if encoded.startswith(("$2a$", "$2b$", "$2y$")):
        return _bcrypt(encoded, prepare)
    if encoded.startswith("bcrypt$"):
        return _bcrypt(encoded.removeprefix("bcrypt$"), prepare)
    if encoded.startswith("bcrypt_sha256$"):
        return _bcrypt(encoded.removeprefix("bcrypt_sha256$"), _then(prepare, _sha256_hex))
    if encoded.startswith(("pbkdf2_sha256$", "pbkdf2_sha1$")):
        return _django_pbkdf2(encoded, prepare)
    if encoded.startswith(("$pbkdf2-sha256$", "$pbkdf2-sha512$", "$pbkdf2$")):
        return _passlib_pbkdf2(encoded, prepare)
    if encoded.startswith("$argon2"):
        return _argon2(encoded, prepare)
    if encoded.startswith("argon2$argon2"):
        return _argon2(encoded.removeprefix("argon2"), prepare)
    if encoded.startswith("scrypt$"):
        return _django_scrypt(encoded, prepare)
    if encoded.startswith("$scrypt$"):
        return _passlib_scrypt(encoded, prepare)
    if encoded.startswith(_WEAK):
        scheme = encoded.split("$", 1)[0] or encoded.split("$", 2)[1]
        raise UnsupportedHashError(
            f"{scheme} hashes are refused: too fast to protect a password "
            "(import the user without a password and let them reset it)"
        )
    if encoded.startswith(_UNSUPPORTED):
        raise UnsupportedHashError("this hash scheme is not supported")
    raise UnsupportedHashError("unknown password hash format")


def _then(first: Prepare, second: Prepare) -> Prepare:
    if first is unchanged:
        return second
    return lambda password: second(first(password))


def _sha256_hex(password: bytes) -> bytes:
    # Django's bcrypt_sha256: the hex digest, so bcrypt sees 64 bytes, never more than 72.
    return binascii.hexlify(hashlib.sha256(password).digest())


def _bcrypt(encoded: str, prepare: Prepare) -> BcryptHash:
    raw = encoded.encode("ascii")
    match = _BCRYPT.fullmatch(raw)
    if match is None:
        raise UnsupportedHashError("malformed bcrypt hash (truncated, or not bcrypt's base64)")
    rounds = int(match.group(1))
    if not 4 <= rounds <= 31:  # noqa: PLR2004 - bcrypt's own range
        raise UnsupportedHashError(f"bcrypt cost {rounds} is outside bcrypt's range 4..31")
    return BcryptHash(raw, rounds, prepare)


def _count(text: str, what: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise UnsupportedHashError(f"{what} must be a positive whole number")
    return int(text)


def _django_pbkdf2(encoded: str, prepare: Prepare) -> Pbkdf2Hash:
    parts = encoded.split("$")
    if len(parts) != 4:  # noqa: PLR2004 - algorithm, iterations, salt, digest
        raise UnsupportedHashError("malformed Django PBKDF2 hash: needs 4 fields")
    algorithm, iterations, salt, digest_text = parts
    digest = algorithm.removeprefix("pbkdf2_")
    if not salt:
        raise UnsupportedHashError("malformed Django PBKDF2 hash: empty salt")
    expected = _b64(digest_text, padded=True)
    _expect_length(expected, _DIGEST_SIZES[digest], "PBKDF2 digest")
    return Pbkdf2Hash(
        digest, _count(iterations, "PBKDF2 iterations"), salt.encode(), expected, prepare
    )


def _passlib_pbkdf2(encoded: str, prepare: Prepare) -> Pbkdf2Hash:
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0]:  # noqa: PLR2004 - "", scheme, rounds, salt, digest
        raise UnsupportedHashError("malformed passlib PBKDF2 hash: needs 4 fields")
    _, scheme, rounds, salt_text, digest_text = parts
    digest = {"pbkdf2": "sha1", "pbkdf2-sha256": "sha256", "pbkdf2-sha512": "sha512"}[scheme]
    # passlib's "adapted base64": '.' stands for '+', no padding.
    salt = _b64(salt_text.replace(".", "+"), padded=False)
    expected = _b64(digest_text.replace(".", "+"), padded=False)
    _expect_length(expected, _DIGEST_SIZES[digest], "PBKDF2 digest")
    return Pbkdf2Hash(digest, _count(rounds, "PBKDF2 rounds"), salt, expected, prepare)


def _argon2(encoded: str, prepare: Prepare) -> Argon2Hash:
    parts = encoded.split("$")
    if len(parts) == 5:  # noqa: PLR2004 - no version field: version 16
        parts.insert(2, "v=16")
    if len(parts) != 6 or parts[0] or parts[1] not in _ARGON2_TYPES:  # noqa: PLR2004
        raise UnsupportedHashError("malformed argon2 hash (not the PHC string format)")
    _, variant, version, params, salt_text, digest_text = parts
    if version not in _ARGON2_VERSIONS:
        raise UnsupportedHashError(f"unknown argon2 version {version!r}")
    values = dict(item.partition("=")[::2] for item in params.split(","))
    if sorted(values) != ["m", "p", "t"]:
        raise UnsupportedHashError("malformed argon2 hash: its parameters must be m, t and p")
    salt = _b64(salt_text, padded=False)
    digest = _b64(digest_text, padded=False)
    _at_least(salt, _MIN_SALT_BYTES, "argon2 salt")
    _at_least(digest, _MIN_DIGEST_BYTES, "argon2 digest")
    return Argon2Hash(
        encoded.encode("ascii"),
        _ARGON2_TYPES[variant],
        memory_kib=_count(values["m"], "argon2 memory"),
        time_cost=_count(values["t"], "argon2 time cost"),
        parallelism=_count(values["p"], "argon2 parallelism"),
        prepare=prepare,
    )


def _scrypt_costs(n: int, r: int, p: int) -> None:
    if n < 2 or n & (n - 1):  # noqa: PLR2004 - scrypt's N is a power of two above 1
        raise UnsupportedHashError("scrypt N must be a power of two")
    if r * p >= 2**30:
        raise UnsupportedHashError("scrypt r·p must be below 2^30")


def _django_scrypt(encoded: str, prepare: Prepare) -> ScryptHash:
    parts = encoded.split("$")
    if len(parts) != 6:  # noqa: PLR2004 - algorithm, N, salt, r, p, digest
        raise UnsupportedHashError("malformed Django scrypt hash: needs 6 fields")
    _, n_text, salt, r_text, p_text, digest_text = parts
    n, r, p = _count(n_text, "scrypt N"), _count(r_text, "scrypt r"), _count(p_text, "scrypt p")
    _scrypt_costs(n, r, p)
    if not salt:
        raise UnsupportedHashError("malformed Django scrypt hash: empty salt")
    expected = _b64(digest_text, padded=True)
    _at_least(expected, _MIN_DIGEST_BYTES, "scrypt digest")
    return ScryptHash(n, r, p, salt.encode(), expected, prepare)


def _passlib_scrypt(encoded: str, prepare: Prepare) -> ScryptHash:
    parts = encoded.split("$")
    if len(parts) != 5 or parts[0]:  # noqa: PLR2004 - "", scheme, params, salt, digest
        raise UnsupportedHashError("malformed passlib scrypt hash: needs 4 fields")
    values = dict(item.partition("=")[::2] for item in parts[2].split(","))
    if sorted(values) != ["ln", "p", "r"]:
        raise UnsupportedHashError("malformed passlib scrypt hash: parameters ln, r and p")
    log_n = _count(values["ln"], "scrypt ln")
    if log_n > 62:  # noqa: PLR2004 - beyond any real cost, and keeps 2**ln small
        raise UnsupportedHashError("scrypt ln is absurd")
    n, r, p = 2**log_n, _count(values["r"], "scrypt r"), _count(values["p"], "scrypt p")
    _scrypt_costs(n, r, p)
    salt = _b64(parts[3], padded=False)
    expected = _b64(parts[4], padded=False)
    _at_least(expected, _MIN_DIGEST_BYTES, "scrypt digest")
    return ScryptHash(n, r, p, salt, expected, prepare)


def _b64(text: str, *, padded: bool) -> bytes:
    if not padded:
        if len(text) % 4 == 1 or "=" in text:
            raise UnsupportedHashError("a salt or digest is not valid unpadded base64")
        text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise UnsupportedHashError("a salt or digest is not valid base64") from None


def _expect_length(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise UnsupportedHashError(f"{what} has {len(data)} bytes, not {size} (truncated?)")


def _at_least(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise UnsupportedHashError(f"{what} has {len(data)} bytes, fewer than {size} (truncated?)")
