"""Foreign password hashes: made by the real libraries, verified by ours, capped and upgraded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from tests.unit.foreign_hashes import (
    FLASK_SECURITY_SALT,
    bcrypt_hash,
    django_hash,
    flask_security_hash,
    passlib_hash,
    pwdlib_hash,
)
from usercore.adapters.argon2 import Argon2Parameters, Argon2PasswordHasher
from usercore.adapters.foreign_hashes import ForeignHashVerifier, HashLimits
from usercore.domain.passwords import PasswordHash, normalize_password
from usercore.ports.hashing import HasherBusyError, UnsupportedHashError

FAST = Argon2Parameters(memory_cost_kib=1024, time_cost=1, parallelism=1)
PASSWORD = "pässwörd of a mïgrated user"


def make_hasher(**limits: int) -> Argon2PasswordHasher:
    caps = HashLimits(**limits)
    foreign = ForeignHashVerifier(caps, flask_security_key=FLASK_SECURITY_SALT.encode())
    most = Argon2Parameters(
        memory_cost_kib=caps.argon2_memory_kib,
        time_cost=caps.argon2_time_cost,
        parallelism=caps.argon2_parallelism,
    )
    return Argon2PasswordHasher(FAST, foreign=foreign, max_cost=most)


MAKERS: dict[str, Callable[[str], str]] = {
    "django pbkdf2_sha256": lambda pw: django_hash("pbkdf2_sha256", pw),
    "django pbkdf2_sha1": lambda pw: django_hash("pbkdf2_sha1", pw),
    "django argon2": lambda pw: django_hash("argon2", pw),
    "django bcrypt_sha256": lambda pw: django_hash("bcrypt_sha256", pw),
    "django bcrypt": lambda pw: django_hash("bcrypt", pw),
    "django scrypt": lambda pw: django_hash("scrypt", pw),
    "passlib pbkdf2_sha256": lambda pw: passlib_hash("pbkdf2_sha256", pw),
    "passlib pbkdf2_sha512": lambda pw: passlib_hash("pbkdf2_sha512", pw),
    "passlib pbkdf2_sha1": lambda pw: passlib_hash("pbkdf2_sha1", pw),
    "passlib scrypt": lambda pw: passlib_hash("scrypt", pw),
    "passlib bcrypt": lambda pw: passlib_hash("bcrypt", pw),
    "passlib argon2": lambda pw: passlib_hash("argon2", pw),
    "pwdlib argon2": lambda pw: pwdlib_hash("argon2", pw),
    "pwdlib bcrypt": lambda pw: pwdlib_hash("bcrypt", pw),
    "bcrypt $2a$": lambda pw: bcrypt_hash(pw, prefix=b"$2a$"),
    "bcrypt $2b$": lambda pw: bcrypt_hash(pw, prefix=b"$2b$"),
    "bcrypt $2y$": lambda pw: bcrypt_hash(pw, prefix=b"$2y$"),
    "flask-security pbkdf2_sha512": lambda pw: (
        "flask-security$" + flask_security_hash("pbkdf2_sha512", pw)
    ),
}


@pytest.mark.parametrize("made_by", sorted(MAKERS))
async def test_verifies_hashes_made_by_other_systems(made_by: str) -> None:
    hasher = make_hasher()
    stored = PasswordHash(MAKERS[made_by](PASSWORD))
    hasher.check_hash(stored)
    # The service hands hashers NFC; the foreign library got the password as typed.
    assert await hasher.verify(stored, normalize_password(PASSWORD))
    assert not await hasher.verify(stored, PASSWORD + "!")
    assert not await hasher.verify(stored, "")
    assert hasher.needs_rehash(stored)
    hasher.close()


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["bcrypt", "argon2"])
async def test_verifies_flask_security_hashes_at_their_default_costs(scheme: str) -> None:
    hasher = make_hasher(bcrypt_rounds=12, argon2_memory_kib=65_536, argon2_parallelism=4)
    stored = PasswordHash("flask-security$" + flask_security_hash(scheme, PASSWORD))
    hasher.check_hash(stored)
    assert await hasher.verify(stored, normalize_password(PASSWORD))
    assert not await hasher.verify(stored, "wrong password")
    hasher.close()


async def test_bcrypt_reads_only_the_first_72_bytes_like_the_libraries_that_made_it() -> None:
    hasher = make_hasher()
    long_password = "x" * 72
    stored = PasswordHash(bcrypt_hash(long_password))
    assert await hasher.verify(stored, long_password + "ignored by bcrypt")
    hasher.close()


def _bcrypt_with_cost(cost: int) -> str:
    return f"$2b${cost:02d}$" + bcrypt_hash("x")[7:]


def _django_pbkdf2_with(iterations: int) -> str:
    algorithm, _, salt, digest = django_hash("pbkdf2_sha256", "x").split("$")
    return f"{algorithm}${iterations}${salt}${digest}"


REFUSED: dict[str, tuple[Callable[[], str], str]] = {
    "truncated bcrypt": (lambda: bcrypt_hash("x")[:-5], "malformed bcrypt"),
    "bcrypt cost 31": (lambda: _bcrypt_with_cost(31), "bcrypt cost 31 is above the limit 14"),
    "PBKDF2 10^9 iterations": (
        lambda: _django_pbkdf2_with(10**9),
        "1000000000 iterations is above the limit",
    ),
    "PBKDF2 digest truncated": (
        lambda: django_hash("pbkdf2_sha256", "x")[:-8] + "=",
        "has 27 bytes, not 32 (truncated?)",
    ),
    "wrong salt encoding": (
        lambda: passlib_hash("pbkdf2_sha256", "x").replace("$1000$", "$1000$!!"),
        "not valid base64",
    ),
    "argon2 4 GiB": (
        lambda: pwdlib_hash("argon2", "x").replace("m=256", "m=4194304"),
        "argon2 memory 4194304 KiB is above the limit",
    ),
    "argon2 without digest": (
        lambda: pwdlib_hash("argon2", "x").rsplit("$", 1)[0],
        "malformed argon2",
    ),
    "scrypt N not a power of two": (
        lambda: django_hash("scrypt", "x").replace("scrypt$1024$", "scrypt$1000$"),
        "power of two",
    ),
    "unknown scheme": (lambda: "$9$abc$def", "unknown password hash format"),
    "plain text": (lambda: "hunter2", "unknown password hash format"),
    "md5": (lambda: "md5$salt$5f4dcc3b5aa765d61d8327deb882cf99", "md5 hashes are refused"),
    "unsalted sha1": (lambda: "sha1$$5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "refused"),
    "non-ASCII": (lambda: "$2b$04$" + "é" * 53, "ASCII"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_refuses_malformed_unknown_and_absurdly_costly_hashes(case: str) -> None:
    make, reason = REFUSED[case]
    hasher = make_hasher()
    stored = PasswordHash(make())
    with pytest.raises(UnsupportedHashError) as refused:
        hasher.check_hash(stored)
    assert reason in refused.value.reason
    started = time.monotonic()
    assert not await hasher.verify(stored, "x")  # never computed, never an error
    assert time.monotonic() - started < 1
    hasher.close()


async def test_refuses_an_own_argon2id_hash_above_the_limit() -> None:
    hasher = make_hasher()
    costly = PasswordHash(f"$argon2id$v=19$m={2**22},t=1,p=1$c2FsdHNhbHQ$" + "A" * 43)
    with pytest.raises(UnsupportedHashError, match="above the limit"):
        hasher.check_hash(costly)
    assert not await hasher.verify(costly, "x")
    hasher.check_hash(await hasher.hash("x"))
    hasher.close()


def test_a_flask_security_hash_needs_the_apps_salt() -> None:
    stored = "flask-security$" + passlib_hash("pbkdf2_sha512", "x")
    with pytest.raises(UnsupportedHashError, match="USERCORE_FLASK_SECURITY_PASSWORD_SALT"):
        ForeignHashVerifier().check(stored)
    assert not ForeignHashVerifier().verify(stored, b"x")


def test_a_wrong_flask_security_salt_verifies_nothing() -> None:
    stored = "flask-security$" + flask_security_hash("pbkdf2_sha512", "x")
    assert ForeignHashVerifier(flask_security_key=FLASK_SECURITY_SALT.encode()).verify(stored, b"x")
    assert not ForeignHashVerifier(flask_security_key=b"another salt").verify(stored, b"x")


async def test_without_foreign_formats_only_argon2_hashes_pass() -> None:
    hasher = Argon2PasswordHasher(FAST)
    with pytest.raises(UnsupportedHashError):
        hasher.check_hash(PasswordHash(bcrypt_hash("x")))
    hasher.check_hash(PasswordHash(pwdlib_hash("argon2", "x")))
    hasher.close()


class _SlowForeign:
    """Records the thread of each verification and holds it until released."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.release = threading.Event()

    def check(self, encoded: str) -> None:
        return None

    def verify(self, encoded: str, password: bytes) -> bool:
        self.threads.append(threading.current_thread().name)
        self.release.wait(5)
        return True


async def test_foreign_hashes_verify_on_the_hashing_threads_under_the_queue_limit() -> None:
    foreign = _SlowForeign()
    hasher = Argon2PasswordHasher(FAST, concurrency=1, queue_limit=1, foreign=foreign)
    stored = PasswordHash("$2b$04$" + "a" * 53)
    first = asyncio.create_task(hasher.verify(stored, "x"))
    second = asyncio.create_task(hasher.verify(stored, "x"))
    await asyncio.sleep(0.05)
    with pytest.raises(HasherBusyError):
        await hasher.verify(stored, "x")
    foreign.release.set()
    assert await first
    assert await second
    assert foreign.threads
    assert all(name.startswith("usercore-argon2") for name in foreign.threads)
    hasher.close()
