"""Arguments of the public use cases, read from what a caller passes: one rule for all.

The rule: every use case takes the plain forms a user of the library would
pass (a UUID string for an id, role names as strings, ``None`` for "no
filter") as well as the domain's own types, and parses them; anything else
is refused with a :class:`ValidationError` naming the argument. No use case
lets a ``TypeError`` or ``AttributeError`` out, nor stores a value of the
wrong type.
"""

from __future__ import annotations

from collections.abc import Iterable

from usercore.domain.errors import ValidationError
from usercore.domain.ids import UserId
from usercore.domain.listing import UserQuery
from usercore.domain.roles import Role
from usercore.domain.user import User

_MAX_VERSION = 2**62


def actor_of(value: object) -> User:
    """The acting user: a ``User`` as loaded for the caller."""
    if not isinstance(value, User):
        raise ValidationError("actor", "must be the acting User, as loaded from storage")
    return value


def user_of(value: object, field: str = "user") -> User:
    """A ``User`` argument."""
    if not isinstance(value, User):
        raise ValidationError(field, "must be a User")
    return value


def user_id_of(value: object, field: str = "user_id") -> UserId:
    """A user id: a ``UserId`` or its UUID text."""
    if isinstance(value, UserId):
        return value
    if isinstance(value, str):
        return UserId.parse(value, field=field)
    raise ValidationError(field, "must be a user id (a UUID string)")


def text_of(value: object, field: str) -> str:
    """A text argument."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    return value


def optional_text_of(value: object, field: str) -> str | None:
    """A text argument, or None for "unchanged"."""
    return None if value is None else text_of(value, field)


def optional_flag_of(value: object, field: str) -> bool | None:
    """True, False, or None for "unchanged" (never 0, 1 or "true")."""
    if value is None or isinstance(value, bool):
        return value
    raise ValidationError(field, "must be true or false")


def roles_of(value: object, field: str = "roles") -> frozenset[Role]:
    """A set of roles: ``Role`` objects or role names, in any collection but a string."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationError(field, "must be a collection of role names")
    roles = set()
    for item in value:
        if isinstance(item, Role):
            roles.add(item)
        elif isinstance(item, str):
            roles.add(Role(item))
        else:
            raise ValidationError(field, "must be a collection of role names")
    return frozenset(roles)


def optional_roles_of(value: object, field: str = "roles") -> frozenset[Role] | None:
    """A set of roles, or None for "unchanged"."""
    return None if value is None else roles_of(value, field)


def version_of(value: object, field: str = "expected_version") -> int | None:
    """A user version to compare with, or None for "the current one"."""
    if value is None:
        return None
    # 0 is no version a user ever has: a valid question with the answer "stale".
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_VERSION:
        raise ValidationError(field, "must be a whole number, 0 or more")
    return value


def query_of(value: object) -> UserQuery:
    """A listing query; None lists from the start with the default page size."""
    if value is None:
        return UserQuery()
    if not isinstance(value, UserQuery):
        raise ValidationError("query", "must be a UserQuery")
    return value
