"""ETag and If-Match on the user resource: the entity tag is the user's version."""

from __future__ import annotations

from usercore.domain.errors import ValidationError
from usercore.domain.user import User


def etag(user: User) -> str:
    """The strong entity tag of ``user``: ``"<version>"``."""
    return f'"{user.version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names; None when absent or ``*`` (any version).

    Raises:
        ValidationError: The header is not a single entity tag we could have sent.
    """
    if if_match is None:
        return None
    value = if_match.strip()
    if value == "*":
        return None
    digits = value[1:-1]
    if (
        len(value) > 2  # noqa: PLR2004 - the quotes and at least one digit
        and value[0] == value[-1] == '"'
        # ASCII only: str.isdigit also accepts "²", which int() refuses.
        and digits.isascii()
        and digits.isdigit()
        and len(digits) <= 18  # noqa: PLR2004 - fits every backend's integer column
    ):
        return int(digits)
    raise ValidationError("If-Match", 'must be one entity tag as sent in ETag, e.g. "3"')
