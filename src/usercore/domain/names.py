"""Display names: any Unicode text a person might be called, within limits storage can keep."""

from __future__ import annotations

import unicodedata

from usercore.domain.errors import ValidationError

MAX_NAME_LENGTH = 200


def parse_name(raw: str, *, field: str = "name") -> str:
    """Check a display name and return it in NFC.

    Control characters and lone surrogates are refused: they can't be stored
    in every backend (PostgreSQL has no NUL in text) or printed safely.

    Raises:
        ValidationError: The name is too long or holds such characters.
    """
    if len(raw) > MAX_NAME_LENGTH:
        raise ValidationError(field, f"must be at most {MAX_NAME_LENGTH} characters")
    if not raw.isprintable() and any(unicodedata.category(c) in {"Cc", "Cs"} for c in raw):
        raise ValidationError(field, "must not contain control characters")
    return unicodedata.normalize("NFC", raw)
