"""The export format: one user as a JSON-ready record, and a record validated back into a user."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from usercore.domain.email import Email
from usercore.domain.errors import ValidationError
from usercore.domain.ids import UserId
from usercore.domain.names import parse_name
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import parse_roles
from usercore.domain.timestamps import utc_millis
from usercore.domain.user import User
from usercore.ports.hashing import UnsupportedHashError

#: The stored hash of an account that has no password (it can't log in with one
#: until a reset): no hasher verifies it. Written as ``null`` in the export.
NO_PASSWORD = PasswordHash("!")

#: The JSON Schema of a record, shipped in the package (``importlib.resources``).
SCHEMA_RESOURCE = ("usercore.services.transfer", "user-export.schema.json")

#: Every field of a record, in the order lines are written.
FIELDS = (
    "id",
    "email",
    "name",
    "roles",
    "is_active",
    "is_verified",
    "metadata",
    "app_metadata",
    "created_at",
    "updated_at",
    "version",
    "credential_epoch",
    "password_hash",
)
#: Fields a record may leave out whose default differs on every run (compared only if stated).
_STATABLE = ("id", "created_at", "updated_at", "version", "credential_epoch")
#: Fields a record may leave out, and what they then are.
_DEFAULTS: dict[str, Any] = {
    "name": "",
    "roles": ["user"],
    "is_active": True,
    "is_verified": False,
    "metadata": {},
    "app_metadata": {},
}


class RecordError(Exception):
    """A record that can't become a user; ``reason`` says why (never quoting a hash)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@attrs.frozen
class Candidate:
    """A record validated into a whole user, and which fields the record itself stated.

    Unstated fields got defaults (a new id, the import time, version 1), so a
    second run of the same import would give them other values: comparisons
    with what is stored leave them out.
    """

    user: User
    stated: frozenset[str]

    def matches(self, stored: User) -> bool:
        """Whether ``stored`` is this record already imported: equal in everything it states."""
        mine = self.user
        same = (
            mine.email == stored.email
            and mine.name == stored.name
            and mine.roles == stored.roles
            and mine.is_active == stored.is_active
            and mine.is_verified == stored.is_verified
            and mine.password_hash == stored.password_hash
        )
        for name in _STATABLE:
            if name in self.stated:
                same = same and getattr(mine, name) == getattr(stored, name)
        return same


def user_to_record(user: User) -> dict[str, Any]:
    """``user`` as one line of the export: plain JSON values, timestamps in RFC 3339 UTC."""
    password_hash = user.password_hash.value
    return {
        "id": user.id.value,
        "email": user.email.value,
        "name": user.name,
        "roles": sorted(role.name for role in user.roles),
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        # User attributes don't exist yet: always empty, so the format stays put when they do.
        "metadata": {},
        "app_metadata": {},
        "created_at": rfc3339(user.created_at),
        "updated_at": rfc3339(user.updated_at),
        "version": user.version,
        # Carried so that tokens revoked before the move stay revoked after it.
        "credential_epoch": user.credential_epoch,
        "password_hash": None if password_hash.startswith("!") else password_hash,
    }


def rfc3339(moment: datetime) -> str:
    """An aware UTC datetime as ``2026-11-23T19:50:27.123Z``."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_to_candidate(
    record: Mapping[str, Any],
    *,
    now: datetime,
    new_id: Callable[[], str],
    check_hash: Callable[[PasswordHash], None],
) -> Candidate:
    """Validate every field of ``record``; a whole user or an error, never half of one.

    Raises:
        RecordError: A field is missing, unknown, of the wrong type or invalid.
    """
    unknown = sorted(set(record) - set(FIELDS))
    if unknown:
        raise RecordError(f"unknown field {unknown[0]!r}")
    fields = {**_DEFAULTS, **record}
    stated = frozenset(name for name in _STATABLE if name in record)
    try:
        for name in ("metadata", "app_metadata"):
            if fields[name] != {}:
                raise RecordError(
                    f"{name}: user attributes are not supported yet; only {{}} is accepted"
                )
        created_at = _time(fields, "created_at", now)
        user = User(
            id=UserId.parse(_text(fields, "id")) if "id" in fields else UserId(new_id()),
            email=Email.parse(_text(fields, "email")),
            name=parse_name(_text(fields, "name")),
            roles=parse_roles(fields["roles"]),
            is_active=_flag(fields, "is_active"),
            is_verified=_flag(fields, "is_verified"),
            password_hash=_password_hash(fields, check_hash),
            created_at=created_at,
            updated_at=_time(fields, "updated_at", created_at if "created_at" in record else now),
            version=_whole(fields, "version"),
            credential_epoch=_whole(fields, "credential_epoch"),
        )
    except ValidationError as exc:
        raise RecordError(str(exc)) from None
    return Candidate(user, stated)


def _text(fields: Mapping[str, Any], name: str) -> str:
    if name not in fields:
        raise RecordError(f"{name}: is required")
    value = fields[name]
    if not isinstance(value, str):
        raise RecordError(f"{name}: must be a string")
    return value


def _flag(fields: Mapping[str, Any], name: str) -> bool:
    value = fields[name]
    if not isinstance(value, bool):
        raise RecordError(f"{name}: must be true or false")
    return value


def _whole(fields: Mapping[str, Any], name: str) -> int:
    value = fields.get(name, 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
        raise RecordError(f"{name}: must be a whole number of at least 1")
    return value


def _time(fields: Mapping[str, Any], name: str, default: datetime) -> datetime:
    if name not in fields:
        return default
    try:
        moment = datetime.fromisoformat(_text(fields, name))
    except ValueError:
        raise RecordError(f"{name}: must be an RFC 3339 timestamp") from None
    if moment.tzinfo is None:
        raise RecordError(f"{name}: must name its time zone (e.g. end in Z)")
    return utc_millis(moment)


def _password_hash(
    fields: Mapping[str, Any], check_hash: Callable[[PasswordHash], None]
) -> PasswordHash:
    if "password_hash" not in fields:
        raise RecordError("password_hash: is required (null for an account without password)")
    value = fields["password_hash"]
    if value is None or (isinstance(value, str) and value.startswith("!")):
        return NO_PASSWORD  # Django's "unusable password" too
    if not isinstance(value, str) or not value:
        raise RecordError("password_hash: must be a non-empty string or null")
    password_hash = PasswordHash(value)
    try:
        check_hash(password_hash)
    except UnsupportedHashError as exc:
        raise RecordError(f"password_hash: {exc.reason}") from None
    return password_hash
