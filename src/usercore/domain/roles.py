"""Roles: short lower-case names; ``user`` and ``admin`` are built in."""

from __future__ import annotations

import re
from typing import ClassVar

import attrs

from usercore.domain.errors import ValidationError

_ROLE_NAME = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")


def _check_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _ROLE_NAME.fullmatch(value):
        raise ValidationError(
            "roles",
            f"{value!r} is not a role name: use 1 to 64 lower-case letters, digits, "
            "'_', '.', ':' or '-', starting with a letter",
        )


@attrs.frozen(order=True)
class Role:
    """A named role. Authorization decisions in usercore look only at ``admin``."""

    name: str = attrs.field(validator=_check_name)

    USER: ClassVar[Role]
    ADMIN: ClassVar[Role]

    def __str__(self) -> str:
        return self.name


Role.USER = Role("user")
Role.ADMIN = Role("admin")


def parse_roles(names: object, *, field: str = "roles") -> frozenset[Role]:
    """Read a collection of role names from untrusted input.

    Raises:
        ValidationError: ``names`` is not a list of valid role names.
    """
    if isinstance(names, str) or not isinstance(names, list | tuple | set | frozenset):
        raise ValidationError(field, "must be a list of role names")
    roles = set()
    for name in names:
        if not isinstance(name, str):
            raise ValidationError(field, "must be a list of role names")
        roles.add(Role(name))
    return frozenset(roles)
