"""zxcvbn's strength estimate, from its Rust implementation (zxcvbn-rs-py), loaded at first use."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from usercore.domain.passwords import MAX_STRENGTH_SCORE, StrengthEstimate
from usercore.ports.strength import PasswordStrengthEstimator

if TYPE_CHECKING:
    from zxcvbn_rs_py import Entropy

#: The most characters judged in one estimate. zxcvbn's cost grows with the
#: square of the length times the look-alike substitutions it tries; at 32 a
#: crafted worst case takes about 90 ms and a typical password under 2 ms
#: (docs/passwords.md).
WINDOW = 32
#: Lone surrogates can't cross into Rust (they are not UTF-8); each is judged
#: as a character no dictionary holds.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")

# zxcvbn's feedback by the name of its enum member, in our own words: plain,
# with no quoted examples that could read like a part of the password.
_WARNINGS = {
    "StraightRowsOfKeysAreEasyToGuess": "Rows of neighbouring keys are easy to guess.",
    "ShortKeyboardPatternsAreEasyToGuess": "Short keyboard patterns are easy to guess.",
    "RepeatsLikeAaaAreEasyToGuess": "Repeated characters are easy to guess.",
    "RepeatsLikeAbcAbcAreOnlySlightlyHarderToGuess": (
        "Typing the same word or pattern again makes it barely harder to guess."
    ),
    "ThisIsATop10Password": "This is one of the ten most used passwords.",
    "ThisIsATop100Password": "This is one of the hundred most used passwords.",
    "ThisIsACommonPassword": "This is a commonly used password.",
    "ThisIsSimilarToACommonlyUsedPassword": "This is close to a commonly used password.",
    "SequencesLikeAbcAreEasyToGuess": "Letters or digits in order are easy to guess.",
    "RecentYearsAreEasyToGuess": "Recent years are easy to guess.",
    "AWordByItselfIsEasyToGuess": "A single word is easy to guess.",
    "DatesAreOftenEasyToGuess": "Dates are easy to guess.",
    "NamesAndSurnamesByThemselvesAreEasyToGuess": "A name on its own is easy to guess.",
    "CommonNamesAndSurnamesAreEasyToGuess": "Common names are easy to guess.",
}
_SUGGESTIONS = {
    "UseAFewWordsAvoidCommonPhrases": "Use a few unrelated words, not a common phrase.",
    "NoNeedForSymbolsDigitsOrUppercaseLetters": "Symbols, digits or capitals are not needed.",
    "AddAnotherWordOrTwo": "Add another word or two; uncommon words are better.",
    "CapitalizationDoesntHelpVeryMuch": "A capital first letter doesn't help much.",
    "AllUppercaseIsAlmostAsEasyToGuessAsAllLowercase": (
        "All capitals are almost as easy to guess as all lower case."
    ),
    "ReversedWordsArentMuchHarderToGuess": "Words spelt backwards aren't much harder to guess.",
    "PredictableSubstitutionsDontHelpVeryMuch": (
        "Swapping letters for look-alike digits or symbols doesn't help much."
    ),
    "UseALongerKeyboardPatternWithMoreTurns": "Avoid keyboard patterns.",
    "AvoidRepeatedWordsAndCharacters": "Avoid repeated words and characters.",
    "AvoidSequences": "Avoid letters or digits in order.",
    "AvoidRecentYears": "Avoid recent years.",
    "AvoidYearsThatAreAssociatedWithYou": "Avoid years that have to do with you.",
    "AvoidDatesAndYearsThatAreAssociatedWithYou": (
        "Avoid dates and years that have to do with you."
    ),
}


class ZxcvbnStrengthEstimator(PasswordStrengthEstimator):
    """zxcvbn's estimate: dictionaries, names, keyboard patterns, repeats, sequences, dates.

    A password longer than ``window`` is judged by its first and its last
    ``window`` characters, and rated as the stronger of the two: whoever
    guesses the whole has guessed each part, so the whole is at least that
    strong. zxcvbn is loaded at the first estimate (about 9 MB), so a process
    that never sets a password never pays for it.

    Args:
        window: The most characters judged in one estimate (at least 16).
    """

    def __init__(self, *, window: int = WINDOW) -> None:
        if window < 16:  # noqa: PLR2004 - below this the window would miss real passwords
            raise ValueError(f"window must be at least 16, not {window}")
        self._window = window

    async def estimate(self, password: str, *, context: Sequence[str]) -> StrengthEstimate:  # noqa: D102 - documented by the port
        # Inline on the event loop, not on a worker thread: the extension holds
        # the GIL for the whole call, so a thread would let nothing else run
        # meanwhile and only add a hop. The window bounds the cost instead.
        password = _LONE_SURROGATES.sub("\ufffd", password)
        inputs = [_LONE_SURROGATES.sub("\ufffd", word) for word in context if word]
        best = _estimate(password[: self._window], inputs)
        if len(password) > self._window and best.score < MAX_STRENGTH_SCORE:
            last = _estimate(password[-self._window :], inputs)
            if last.score > best.score:
                best = last
        return best


def _estimate(password: str, inputs: list[str]) -> StrengthEstimate:
    zxcvbn, warnings, suggestions = _load()
    result = zxcvbn(password, inputs)
    score = int(result.score)
    feedback = result.feedback
    if feedback is None:  # zxcvbn gives feedback only to scores 0 to 2
        return StrengthEstimate(score=score)
    advice = (_text(suggestion, suggestions) for suggestion in feedback.suggestions)
    return StrengthEstimate(
        score=score,
        warning=_text(feedback.warning, warnings),
        suggestions=tuple(text for text in advice if text),
    )


_Texts = tuple[tuple[object, str], ...]


@functools.cache
def _load() -> tuple[Callable[[str, list[str] | None], Entropy], _Texts, _Texts]:
    """zxcvbn, and our words for the members of its two feedback enums."""
    import zxcvbn_rs_py

    return (
        zxcvbn_rs_py.zxcvbn,
        _members(zxcvbn_rs_py.Warning, _WARNINGS),
        _members(zxcvbn_rs_py.Suggestion, _SUGGESTIONS),
    )


def _members(enum: type, texts: dict[str, str]) -> _Texts:
    # A member missing from a later release just loses its sentence.
    return tuple((getattr(enum, name), text) for name, text in texts.items() if hasattr(enum, name))


def _text(member: object, texts: _Texts) -> str:
    # Compared, not looked up: the extension's enum members are unhashable.
    return next((text for known, text in texts if known == member), "")
