"""The common-password blocklist, read once from zxcvbn's bundled frequency lists."""

from __future__ import annotations

import functools


@functools.cache
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list, case-folded."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])
