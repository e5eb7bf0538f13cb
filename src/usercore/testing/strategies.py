"""Hypothesis strategies for the usercore domain.

Importing this module registers them for :func:`hypothesis.strategies.from_type`
on the validated value objects (``Email``, ``UserId``, ``Role``, ``User``),
because ``from_type`` would otherwise bypass their attrs validators.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from usercore.domain.email import Email
from usercore.domain.errors import ValidationError, WeakPasswordError
from usercore.domain.ids import UserId, uuid7_from_parts
from usercore.domain.names import MAX_NAME_LENGTH
from usercore.domain.passwords import PasswordHash, PasswordPolicy
from usercore.domain.roles import Role
from usercore.domain.timestamps import utc_millis
from usercore.domain.user import User

_LOCAL_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_LABEL_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_IDN_ALPHABET = "äöüéñçåøαβγжщ日本語中文"
_TLDS = ("com", "org", "net", "de", "io", "example", "xn--p1ai")


def _check_size(name: str, value: int | None, low: int = 0) -> None:
    # Strategies validate their arguments eagerly, when built, not at draw time.
    if value is not None and value < low:
        raise ValueError(f"{name} must be at least {low}, not {value}")


@st.composite
def _raw_emails(draw: st.DrawFn, *, idn: bool, plus_addressing: bool) -> str:
    local = draw(st.text(_LOCAL_ALPHABET, min_size=1, max_size=20))
    if plus_addressing and draw(st.booleans()):
        local += "+" + draw(st.text(_LOCAL_ALPHABET, min_size=1, max_size=8))
    label_alphabet = _LABEL_ALPHABET + (_IDN_ALPHABET if idn else "")
    labels = draw(
        st.lists(st.text(label_alphabet, min_size=1, max_size=12), min_size=1, max_size=2)
    )
    return f"{local}@{'.'.join(labels)}.{draw(st.sampled_from(_TLDS))}"


def _parses(raw: str) -> bool:
    try:
        Email.parse(raw)
    except ValidationError:
        return False
    return True


def emails(*, idn: bool = True, plus_addressing: bool = True) -> st.SearchStrategy[str]:
    """Email addresses as a user might type them: mixed case, IDN domains, plus-addressing.

    Every address drawn is valid (``Email.parse`` accepts it); use
    ``.map(Email.parse)`` for normalised :class:`~usercore.domain.Email` values.
    """
    return _raw_emails(idn=idn, plus_addressing=plus_addressing).filter(_parses)


def names(*, max_size: int = MAX_NAME_LENGTH) -> st.SearchStrategy[str]:
    """Display names as stored: any Unicode text but control characters and lone surrogates, NFC.

    In the normal form ``parse_name`` gives them, so a name drawn here is the
    one stored, exported and imported again (U+F9xx compatibility ideographs,
    for one, become other code points under NFC).
    """
    _check_size("max_size", max_size)
    limit = min(max_size, MAX_NAME_LENGTH)
    alphabet = st.characters(exclude_categories=("Cc", "Cs"))
    return (
        st.text(alphabet, max_size=limit)
        .map(lambda name: unicodedata.normalize("NFC", name))
        .filter(lambda name: len(name) <= limit)
    )


def passwords(
    policy: PasswordPolicy | None = None, *, max_size: int = 80
) -> st.SearchStrategy[str]:
    """Strong passwords that ``policy`` accepts (without context words), of any Unicode.

    Each is ``policy.min_length`` or more distinct characters in an order that
    has nothing to do with their code points, so a strength estimate finds no
    repeats, sequences, keyboard rows or long words in it: zxcvbn rates every
    one at least 3 of 4 (the default minimum) from 15 characters up. Drawn
    freely, hypothesis' favourite texts (``"000000000000000"``, runs of one
    character) are weak and a real password check refuses them.

    Args:
        policy: The policy they must pass; the default policy when None.
        max_size: The longest password drawn (the policy itself allows 1024).
    """
    policy = policy or PasswordPolicy()
    _check_size("max_size", max_size, policy.min_length)

    def accepted(password: str) -> bool:
        try:
            policy.check(password)
        except WeakPasswordError:
            # NFC may join a drawn combining mark to its neighbour and leave
            # the password a character short.
            return False
        return True

    alphabet = st.characters(exclude_categories=["Cs"])
    distinct = st.lists(alphabet, min_size=policy.min_length, max_size=max_size, unique=True)
    return distinct.map(_scrambled).filter(accepted)


def _scrambled(characters: list[str]) -> str:
    # Ordered by a hash: the same characters always give the same password,
    # and neighbouring code points (the shrinker's favourites) end up apart.
    return "".join(sorted(characters, key=_scramble_key))


def _scramble_key(character: str) -> bytes:
    return hashlib.blake2b(character.encode(), digest_size=8).digest()


def roles() -> st.SearchStrategy[Role]:
    """Roles: mostly the built-in ones, sometimes custom names."""
    custom = st.from_regex(r"[a-z][a-z0-9_.:-]{0,15}", fullmatch=True).map(Role)
    return st.one_of(st.sampled_from([Role.USER, Role.ADMIN]), custom)


def timestamps(
    *,
    min_value: datetime = datetime(2020, 1, 1, tzinfo=UTC),
    max_value: datetime = datetime(2040, 1, 1, tzinfo=UTC),
) -> st.SearchStrategy[datetime]:
    """Aware UTC datetimes at millisecond precision, as every backend stores them."""
    naive = st.datetimes(
        min_value=min_value.replace(tzinfo=None), max_value=max_value.replace(tzinfo=None)
    )
    return naive.map(lambda moment: utc_millis(moment.replace(tzinfo=UTC)))


def user_ids() -> st.SearchStrategy[UserId]:
    """UUIDv7 user ids."""
    return st.builds(
        lambda ms, rand: UserId(str(uuid7_from_parts(ms, rand))),
        st.integers(min_value=0, max_value=2**48 - 1),
        st.binary(min_size=10, max_size=10),
    )


@st.composite
def _users(draw: st.DrawFn) -> User:
    created = draw(timestamps())
    updated = created + timedelta(milliseconds=draw(st.integers(0, 10**9)))
    return User(
        id=draw(user_ids()),
        email=Email.parse(draw(emails())),
        name=draw(names(max_size=40)),
        roles=draw(st.frozensets(roles(), max_size=3)),
        is_active=draw(st.booleans()),
        is_verified=draw(st.booleans()),
        password_hash=PasswordHash(draw(st.text("abcdef0123456789$=,", min_size=1, max_size=60))),
        created_at=created,
        updated_at=updated,
        version=draw(st.integers(min_value=1, max_value=2**31 - 1)),
        credential_epoch=draw(st.integers(min_value=1, max_value=2**31 - 1)),
    )


def users() -> st.SearchStrategy[User]:
    """Whole, valid User entities (with an arbitrary opaque hash), ready to store."""
    return _users()


st.register_type_strategy(Email, emails().map(Email.parse))
st.register_type_strategy(UserId, user_ids())
st.register_type_strategy(Role, roles())
st.register_type_strategy(User, users())
