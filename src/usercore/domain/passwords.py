"""Passwords: the opaque stored hash and the policy a new password must meet."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import attrs

from usercore.domain.email import Email
from usercore.domain.errors import WeakPasswordError

#: NIST SP 800-63B rev. 4 lets verifiers refuse very long passwords; we refuse
#: them before any hashing so an attacker can't make us hash megabytes.
MAX_PASSWORD_LENGTH = 1024
#: The floor the policy may be configured down to (NIST's absolute minimum).
MIN_PASSWORD_LENGTH_FLOOR = 8
#: Context words shorter than this are too common inside passphrases to refuse.
MIN_CONTEXT_WORD_LENGTH = 4
#: The strength scale (zxcvbn's): 0 is guessed at once, 4 is out of reach.
MIN_STRENGTH_SCORE, MAX_STRENGTH_SCORE = 0, 4
_WORD_SPLIT = re.compile(r"[\W_]+")


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


def account_words(email: Email, name: str) -> tuple[str, ...]:
    """The words tied to an account that its password must not be built on.

    The whole email, its local part and domain, the name, and the words of
    both (split at anything but letters and digits), each once, in that order.
    """
    words = [email.value, email.local_part, email.domain, name]
    words += _WORD_SPLIT.split(email.local_part) + _WORD_SPLIT.split(name)
    return tuple(dict.fromkeys(word for word in words if word))


def _contains_word(folded_password: str, word: str) -> bool:
    word = word.casefold()
    return len(word) >= MIN_CONTEXT_WORD_LENGTH and word in folded_password


def _check_min_length(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < MIN_PASSWORD_LENGTH_FLOOR:
        raise ValueError(f"{attribute.name} must be at least {MIN_PASSWORD_LENGTH_FLOOR}")


def _check_score(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not MIN_STRENGTH_SCORE <= value <= MAX_STRENGTH_SCORE:
        raise ValueError(
            f"{attribute.name} must be from {MIN_STRENGTH_SCORE} to {MAX_STRENGTH_SCORE}"
        )


def _sentences(texts: Iterable[str]) -> tuple[str, ...]:
    return tuple(texts)


@attrs.frozen
class StrengthEstimate:
    """How hard a password is to guess, as a strength estimator judged it.

    Attributes:
        score: 0 (guessed at once) to 4 (out of reach even of an offline
            attack on a fast hash), zxcvbn's scale.
        warning: What makes it weak, in plain words; empty when nothing in
            particular. Never quotes the password or the context words.
        suggestions: What to do instead, each a sentence, same rules.
    """

    score: int = attrs.field(validator=_check_score)
    warning: str = ""
    suggestions: tuple[str, ...] = attrs.field(default=(), converter=_sentences)


@attrs.frozen
class PasswordPolicy:
    """What a new password must be, after NIST SP 800-63B rev. 4.

    Length counts characters after NFC normalisation. There are no composition
    rules; instead a password is refused when a strength estimate (zxcvbn's,
    made by the caller with the account's words as context) says it is easy
    to guess, or when it contains a word of its account or the service's name.
    Nothing is ever truncated.

    Attributes:
        min_length: At least this many characters (default 15, never below 8).
        min_score: The lowest strength score accepted, 0 to 4 (default 3:
            about 10^8 guesses or more).
        service_name: Refused as a part of any password.
    """

    min_length: int = attrs.field(default=15, validator=_check_min_length)
    min_score: int = attrs.field(default=3, validator=_check_score)
    service_name: str = "usercore"

    @property
    def max_length(self) -> int:
        """The longest accepted password, in characters."""
        return MAX_PASSWORD_LENGTH

    def normalize(self, password: str) -> str:
        """The password in the form it is estimated, hashed and checked in (NFC).

        Raises:
            WeakPasswordError: It is longer than any password may be; refused
                before any work is spent on it.
        """
        if len(password) > MAX_PASSWORD_LENGTH:
            # Checked before normalising: NFC of a huge string is itself work.
            raise WeakPasswordError([f"Use at most {MAX_PASSWORD_LENGTH} characters."])
        return normalize_password(password)

    def check(
        self,
        password: str,
        *,
        context: Iterable[str] = (),
        estimate: StrengthEstimate | None = None,
    ) -> str:
        """Check a new password and return its normalised form, ready for hashing.

        Args:
            password: The password as typed.
            context: Words tied to this account (see :func:`account_words`)
                that the password must not contain. Reasons never echo them,
                nor any part of the password.
            estimate: The strength estimate of the normalised password; None
                judges the length and the context words alone.

        Raises:
            WeakPasswordError: With every reason the password was refused.
        """
        normalized = self.normalize(password)
        reasons = []
        if len(normalized) < self.min_length:
            reasons.append(
                f"Use at least {self.min_length} characters; a few unrelated words make "
                "a long password that is easy to remember.",
            )
        folded = normalized.casefold()
        if _contains_word(folded, self.service_name):
            reasons.append("Don't use the name of this service in your password.")
        if any(_contains_word(folded, word) for word in context):
            reasons.append("Don't use your email address or your name in your password.")
        if estimate is not None and estimate.score < self.min_score:
            reasons.append(estimate.warning or "This password would be easy to guess.")
            reasons += estimate.suggestions
        if reasons:
            raise WeakPasswordError(list(dict.fromkeys(reasons)))
        return normalized
