"""The common-password blocklist, read once from zxcvbn's bundled frequency lists."""

from __future__ import annotations

import ast
import functools
import importlib.util
from pathlib import Path

from usercore.domain.passwords import MIN_PASSWORD_LENGTH_FLOOR

_PACKAGE = "zxcvbn"
_LIST_NAME = "passwords"
_LIST_START = f'"{_LIST_NAME}": "'
_LIST_END = '".split(",")'
#: Fewer words than this means the text was not read as intended.
_PLAUSIBLE_SIZE = 10_000


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most common passwords of zxcvbn's list (30,000) that a policy could accept, case-folded.

    Passwords shorter than any policy allows are left out: the length rule
    refuses them already.
    """
    words = _passwords_from_source()
    if words is None:
        from zxcvbn.frequency_lists import FREQUENCY_LISTS

        words = FREQUENCY_LISTS[_LIST_NAME]
    return frozenset(word.casefold() for word in words if len(word) >= MIN_PASSWORD_LENGTH_FLOOR)


def _passwords_from_source() -> list[str] | None:
    """The list read from the module's source text, without importing the package.

    Importing it builds all six of its lists, 16 MB per process for the one
    we use. The module is generated with one line per list,
    ``"passwords": "a,b,...".split(","),``; None when it is laid out
    otherwise, and the import is used instead.
    """
    spec = importlib.util.find_spec(_PACKAGE)  # a top-level spec imports nothing
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).with_name("frequency_lists.py")
    try:
        text = source.read_text(encoding="utf-8")
    except OSError:
        return None
    start = text.find(_LIST_START)
    end = text.find(_LIST_END, start)
    if start < 0 or end < 0:
        return None
    try:
        # Just this one string literal, escapes and all.
        literal = ast.literal_eval(text[start + len(_LIST_START) - 1 : end + 1])
    except (ValueError, SyntaxError):
        return None
    if not isinstance(literal, str):
        return None
    words = literal.split(",")
    return words if len(words) >= _PLAUSIBLE_SIZE else None
