"""Identifiers: UUIDv7 user ids, made by the domain's id factory, never by a database."""

from __future__ import annotations

import uuid

import attrs

from usercore.domain.errors import ValidationError

_UUID_TEXT_LENGTH = 36


def uuid7_from_parts(unix_ms: int, random_bits: bytes) -> uuid.UUID:
    """Lay out a UUID version 7 (RFC 9562 §5.7) from a millisecond timestamp and randomness.

    Args:
        unix_ms: Milliseconds since the Unix epoch; the top 48 bits of the id,
            which is why ids sort by creation time.
        random_bits: At least 10 bytes of randomness for the remaining 74 bits.

    Returns:
        The UUID; its canonical text sorts in the same order as ``unix_ms``.
    """
    if len(random_bits) < 10:  # noqa: PLR2004 - 74 random bits need 10 bytes
        raise ValueError("uuid7 needs at least 10 bytes of randomness")
    rand = int.from_bytes(random_bits[:10], "big")
    rand_a = (rand >> 62) & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (
        ((unix_ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    )
    return uuid.UUID(int=value)


def parse_uuid(text: str, *, field: str = "id") -> str:
    """A UUID read from untrusted text, in canonical lower-case form.

    Raises:
        ValidationError: ``text`` is not a UUID in its 36-character form.
    """
    if len(text) != _UUID_TEXT_LENGTH:
        raise ValidationError(field, "must be a UUID in its 36-character form")
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        raise ValidationError(field, "must be a UUID in its 36-character form") from None
    return str(parsed)


def _check_canonical(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if len(value) != _UUID_TEXT_LENGTH or value != value.lower():
        raise ValidationError(attribute.name, "must be a canonical lower-case UUID")


@attrs.frozen(order=True)
class UserId:
    """A user's id: a UUID (version 7 when we made it) in canonical lower-case text form."""

    value: str = attrs.field(validator=_check_canonical)

    @classmethod
    def parse(cls, text: str, *, field: str = "id") -> UserId:
        """Read an id from untrusted text.

        Raises:
            ValidationError: ``text`` is not a UUID in its 36-character form.
        """
        return cls(parse_uuid(text, field=field))

    def __str__(self) -> str:
        return self.value
