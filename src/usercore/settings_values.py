"""How a setting's value is read, whatever its source: one strict rule per kind of value.

An env var arrives as text, a flag as text or a typed value, a keyword of
``usercore.connect`` as whatever the caller passed. Each converter here takes
all of these and gives the one typed value, or raises ``SettingsError``
naming the setting: ``"12"`` and ``12`` are the same whole number everywhere,
``"on"`` and ``True`` the same switch, and nothing else is taken for them.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import attrs

from usercore.domain.errors import UserCoreError

ENV_PREFIX = "USERCORE_"
_TRUE = frozenset({"1", "on", "true", "yes"})
_FALSE = frozenset({"0", "off", "false", "no"})


class SettingsError(UserCoreError):
    """A setting has a value usercore can't use; the message names the setting.

    Attributes:
        name: The setting (its field name).
    """

    def __init__(self, name: str, message: str, *, label: str | None = None) -> None:
        super().__init__(f"{label or ENV_PREFIX + name.upper()}: {message}")
        self.name = name


#: Reads one setting's value from any source: ``read(value, name)``.
Reader = Callable[[Any, str], Any]


def setting(
    default: Any = attrs.NOTHING,
    *,
    read: Reader,
    check: Callable[[Any, attrs.Attribute[Any], Any], None] | None = None,
    **kwargs: Any,
) -> Any:
    """An attrs field read by ``read``: ``Settings.load`` reads every source with it.

    Constructing ``Settings`` directly takes typed values only: the field's
    validator refuses any value that ``read`` would have to change (a whole
    number is fine where seconds are asked for). ``check`` adds a validator.
    """

    def validate(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        read_value = read(value, attribute.name)
        widened = isinstance(value, int) and isinstance(read_value, float)
        if read_value != value or (type(read_value) is not type(value) and not widened):
            raise SettingsError(attribute.name, f"must be given as {read_value!r}")

    validators = [validate] if check is None else [validate, check]
    return attrs.field(default=default, validator=validators, metadata={"read": read}, **kwargs)


def read_setting(field: attrs.Attribute[Any], value: object) -> Any:
    """``value`` as the field's reader reads it."""
    reader: Reader = field.metadata["read"]
    return reader(value, field.name)


def _whole(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise SettingsError(name, f"must be a whole number, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("-")
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:  # noqa: PLR2004
            return int(text)
    raise SettingsError(name, f"must be a whole number, not {value!r}")


def whole(low: int | None = None, high: int | None = None) -> Reader:
    """A converter to a whole number in ``low..high`` (either end open when None)."""

    def convert(value: object, name: str) -> int:
        number = _whole(value, name)
        if (low is not None and number < low) or (high is not None and number > high):
            if high is None:
                raise SettingsError(name, f"must be a whole number of at least {low}")
            raise SettingsError(name, f"must be a whole number from {low} to {high}")
        return number

    return convert


def optional_whole(low: int, high: int) -> Reader:
    """A converter to a whole number in ``low..high``, or None for unset (None or empty)."""

    def convert(value: object, name: str) -> int | None:
        if value is None or value == "":
            return None
        number = _whole(value, name)
        if not low <= number <= high:
            raise SettingsError(name, f"must be a whole number from {low} to {high}")
        return number

    return convert


def positive_seconds() -> Reader:
    """A converter to a finite number of seconds above 0."""

    def convert(value: object, name: str) -> float:
        number: float | None = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                number = None
        if number is None or not math.isfinite(number) or number <= 0:
            raise SettingsError(name, f"must be a number of seconds above 0, not {value!r}")
        return number

    return convert


def switch() -> Reader:
    """A converter to a bool: ``on``/``off``, ``true``/``false``, ``yes``/``no``, ``1``/``0``."""

    def convert(value: object, name: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise SettingsError(name, f"must be on or off, not {value!r}")

    return convert


def text(*, allow_empty: bool = False) -> Reader:
    """A converter to a string (non-empty unless ``allow_empty``)."""

    def convert(value: object, name: str) -> str:
        if not isinstance(value, str):
            raise SettingsError(name, f"must be text, not {value!r}")
        if not allow_empty and not value.strip():
            raise SettingsError(name, "must not be empty")
        return value

    return convert


def optional_text() -> Reader:
    """A converter to a string, or None for unset (None or empty)."""

    def convert(value: object, name: str) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise SettingsError(name, f"must be text, not {value!r}")
        return value

    return convert


def choice(options: Iterable[str], *, fold: Callable[[str], str] = str.lower) -> Reader:
    """A converter to one of ``options`` (compared after ``fold``); the message lists them."""
    allowed = tuple(options)

    def convert(value: object, name: str) -> str:
        if isinstance(value, str):
            folded = fold(value.strip())
            if folded in allowed:
                return folded
        raise SettingsError(name, f"must be one of {', '.join(allowed)}, not {value!r}")

    return convert


def path() -> Reader:
    """A converter to a ``Path`` (from text or any path-like object)."""

    def convert(value: object, name: str) -> Path:
        if isinstance(value, str | os.PathLike) and str(value):
            return Path(value)
        raise SettingsError(name, f"must be a file system path, not {value!r}")

    return convert


def optional_path() -> Reader:
    """A converter to a ``Path``, or None for unset (None or empty)."""

    def convert(value: object, name: str) -> Path | None:
        if value is None or value == "":
            return None
        if isinstance(value, str | os.PathLike):
            return Path(value)
        raise SettingsError(name, f"must be a file system path, not {value!r}")

    return convert


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name nearest to a misspelt ``name``, if any is near enough."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
    return matches[0] if matches else None
