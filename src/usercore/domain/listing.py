"""Listing users: keyset pagination ordered by id, with an opaque cursor and filters."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from typing import Generic, TypeVar

import attrs

from usercore.domain.errors import ValidationError
from usercore.domain.ids import UserId
from usercore.domain.roles import Role
from usercore.domain.user import User

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


def encode_cursor(last_id: UserId) -> str:
    """The opaque cursor that continues a listing after ``last_id``."""
    raw = uuid.UUID(last_id.value).bytes
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, *, field: str = "cursor") -> UserId:
    """Read a cursor made by :func:`encode_cursor`.

    Raises:
        ValidationError: The cursor was not made by us.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"==")
        return UserId(str(uuid.UUID(bytes=raw)))
    except (ValueError, UnicodeEncodeError, binascii.Error):
        raise ValidationError(field, "is not a cursor returned by a previous page") from None


def _check_limit(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(attribute.name, f"must be between 1 and {MAX_PAGE_SIZE}")


def _lower_or_none(prefix: str | None) -> str | None:
    return None if prefix is None else prefix.lower()


@attrs.frozen
class UserQuery:
    """Which users to list, and from where.

    Attributes:
        limit: Page size, 1 to 100.
        after: Continue after this id (decoded from the caller's cursor).
        email_prefix: Only users whose normalised email starts with this
            (lower-cased, as normalised emails are).
        role: Only users holding this role.
        is_active: Only users with this activity flag.
    """

    limit: int = attrs.field(default=DEFAULT_PAGE_SIZE, validator=_check_limit)
    after: UserId | None = None
    email_prefix: str | None = attrs.field(default=None, converter=_lower_or_none)
    role: Role | None = None
    is_active: bool | None = None

    @classmethod
    def from_cursor(
        cls,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        email_prefix: str | None = None,
        role: Role | None = None,
        is_active: bool | None = None,
    ) -> UserQuery:
        """Build a query from an opaque cursor as a client sent it.

        Raises:
            ValidationError: A bad limit or a cursor we did not make.
        """
        after = None if cursor is None else decode_cursor(cursor)
        return cls(
            limit=limit, after=after, email_prefix=email_prefix, role=role, is_active=is_active
        )


@attrs.frozen
class Page(Generic[T]):
    """One page of a listing; ``next_cursor`` is None on the last page."""

    items: tuple[T, ...] = attrs.field(converter=tuple)
    next_cursor: str | None


def user_page(rows: Sequence[User], limit: int) -> Page[User]:
    """Cut a page from up to ``limit + 1`` rows in id order.

    Adapters fetch one row more than asked: its presence says a next page
    exists, without a second query or a count.
    """
    if len(rows) > limit:
        items = rows[:limit]
        return Page(items=items, next_cursor=encode_cursor(items[-1].id))
    return Page(items=rows, next_cursor=None)
