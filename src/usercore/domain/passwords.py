"""Passwords: the opaque stored hash and the policy a new password must meet."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import attrs

from usercore.domain.errors import WeakPasswordError

#: NIST SP 800-63B rev. 4 lets verifiers refuse very long passwords; we refuse
#: them before any hashing so an attacker can't make us hash megabytes.
MAX_PASSWORD_LENGTH = 1024
#: The floor the policy may be configured down to (NIST's absolute minimum).
MIN_PASSWORD_LENGTH_FLOOR = 8
#: Context words shorter than this are too common inside passphrases to refuse.
MIN_CONTEXT_WORD_LENGTH = 4


@attrs.frozen
class PasswordHash:
    """A password hash in the hasher's own self-describing text format.

    Opaque to the domain; hidden from ``repr`` so it never reaches a log line.
    """

    value: str = attrs.field(repr=False)

    def __str__(self) -> str:
        return "PasswordHash(...)"


def normalize_password(password: str) -> str:
    """Return the form a password is hashed and checked in (Unicode NFC).

    A password set as "é" must verify when typed as "e" + combining acute.
    """
    return unicodedata.normalize("NFC", password)


def _word_set(words: Iterable[str]) -> frozenset[str]:
    return frozenset(word.casefold() for word in words)


def _contains_word(folded_password: str, word: str) -> bool:
    word = word.casefold()
    return len(word) >= MIN_CONTEXT_WORD_LENGTH and word in folded_password


def _check_min_length(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < MIN_PASSWORD_LENGTH_FLOOR:
        raise ValueError(f"{attribute.name} must be at least {MIN_PASSWORD_LENGTH_FLOOR}")


@attrs.frozen
class PasswordPolicy:
    """What a new password must be, after NIST SP 800-63B rev. 4.

    Length counts characters after NFC normalisation. There are no composition
    rules; instead a password is refused when it is on a list of commonly used
    passwords or contains a word from its context (the email's local part, the
    service's name). Nothing is ever truncated.

    Attributes:
        min_length: At least this many characters (default 15, never below 8).
        blocklist: Commonly used passwords, lower-case; matched case-insensitively.
        service_name: Refused as a part of any password.
    """

    min_length: int = attrs.field(default=15, validator=_check_min_length)
    blocklist: frozenset[str] = attrs.field(
        default=frozenset(), converter=_word_set, repr=lambda words: f"<{len(words)} words>"
    )
    service_name: str = "usercore"

    @property
    def max_length(self) -> int:
        """The longest accepted password, in characters."""
        return MAX_PASSWORD_LENGTH

    def check(self, password: str, *, context: Iterable[str] = ()) -> str:
        """Check a new password and return its normalised form, ready for hashing.

        Args:
            password: The password as typed.
            context: Words tied to this account (e.g. the email's local part)
                that the password must not contain. Reasons never echo them,
                nor any part of the password.

        Raises:
            WeakPasswordError: With every reason the password was refused.
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            # Checked before normalising: NFC of a huge string is itself work.
            raise WeakPasswordError(
                [f"Use at most {MAX_PASSWORD_LENGTH} characters."],
            )
        normalized = normalize_password(password)
        reasons = []
        if len(normalized) < self.min_length:
            reasons.append(
                f"Use at least {self.min_length} characters; a few unrelated words make "
                "a long password that is easy to remember.",
            )
        folded = normalized.casefold()
        if folded in self.blocklist:
            reasons.append("This password is one of the most commonly used; choose another.")
        if _contains_word(folded, self.service_name):
            reasons.append("Don't use the name of this service in your password.")
        if any(_contains_word(folded, word) for word in context):
            reasons.append("Don't use your email address or your name in your password.")
        if reasons:
            raise WeakPasswordError(reasons)
        return normalized
