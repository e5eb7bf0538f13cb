"""The adapter's private document schema: domain objects to MongoDB documents and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from bson.binary import Binary, UuidRepresentation

from usercore.domain.email import Email
from usercore.domain.ids import UserId
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User

#: What pymongo hands back and takes: a plain mapping from field name to value.
Document = dict[str, Any]

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def user_key(user_id: UserId) -> Binary:
    """The ``_id`` of a user: its UUID as BSON binary subtype 4 (the standard representation).

    Built explicitly rather than left to the client's ``uuidRepresentation``,
    so documents are the same whichever representation a client is set to.
    """
    return Binary.from_uuid(uuid.UUID(user_id.value), UuidRepresentation.STANDARD)


def user_id_from(value: object) -> UserId:
    """Read a user id back, as a client with or without ``uuidRepresentation=standard`` gives it."""
    if isinstance(value, uuid.UUID):
        return UserId(str(value))
    if isinstance(value, Binary):
        return UserId(str(value.as_uuid(UuidRepresentation.STANDARD)))
    raise TypeError(f"not a stored user id: {type(value).__name__}")


def aware(moment: datetime) -> datetime:
    """A stored timestamp as an aware UTC datetime.

    BSON dates are UTC milliseconds; clients return them naive unless built
    with ``tz_aware=True``, so both forms are accepted here.
    """
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def user_to_document(user: User) -> Document:
    """The document that stores ``user``."""
    return {
        "_id": user_key(user.id),
        "email": user.email.value,
        "name": user.name,
        "roles": sorted(role.name for role in user.roles),
        "is_active": user.is_active,
        "is_verified": user.is_verified,
        "password_hash": user.password_hash.value,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "version": user.version,
        "credential_epoch": user.credential_epoch,
    }


def user_from_document(document: Document) -> User:
    """The user stored in ``document``."""
    return User(
        id=user_id_from(document["_id"]),
        email=Email(document["email"]),
        name=document["name"],
        roles=frozenset(Role(name) for name in document["roles"]),
        is_active=document["is_active"],
        is_verified=document["is_verified"],
        password_hash=PasswordHash(document["password_hash"]),
        created_at=aware(document["created_at"]),
        updated_at=aware(document["updated_at"]),
        version=document["version"],
        credential_epoch=document["credential_epoch"],
    )


def session_to_document(session: Session) -> Document:
    """The document that stores ``session``; its ``_id`` is the session id as text."""
    return {
        "_id": session.id,
        "user_id": user_key(session.user_id),
        "token_hash": session.token_hash,
        "previous_hashes": list(session.previous_hashes),
        "generation": session.generation,
        "created_at": session.created_at,
        "last_used_at": session.last_used_at,
        "expires_at": session.expires_at,
        "revoked_at": session.revoked_at,
        "epoch": session.epoch,
        "user_agent": session.user_agent,
    }


def session_from_document(document: Document) -> Session:
    """The session stored in ``document``."""
    revoked_at = document["revoked_at"]
    return Session(
        id=document["_id"],
        user_id=user_id_from(document["user_id"]),
        token_hash=document["token_hash"],
        previous_hashes=tuple(document["previous_hashes"]),
        generation=document["generation"],
        created_at=aware(document["created_at"]),
        last_used_at=aware(document["last_used_at"]),
        expires_at=aware(document["expires_at"]),
        revoked_at=None if revoked_at is None else aware(revoked_at),
        epoch=document["epoch"],
        user_agent=document["user_agent"],
    )


def storable(text: str) -> bool:
    """Whether BSON can hold ``text``: UTF-8 strings only, so no lone surrogates.

    A query for text that cannot be stored can match nothing, and is not sent.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prefix_range(prefix: str) -> dict[str, str] | None:
    """A range filter matching exactly the strings that start with ``prefix``.

    None when no stored string can start with ``prefix`` (it is not
    :func:`storable`).

    A range (unlike a regular expression) is served by the unique email index.
    MongoDB compares strings by their UTF-8 bytes, which orders them like
    Python's code-point comparison, so the upper bound is the prefix with its
    last code point incremented (carrying past U+10FFFF, skipping surrogates,
    which UTF-8 cannot encode).
    """
    if not storable(prefix):
        return None
    bounds = {"$gte": prefix}
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code in _SURROGATES:
            code = _SURROGATES.stop
        if code <= _MAX_CODE_POINT:
            bounds["$lt"] = "".join(chars) + chr(code)
            break
    return bounds
