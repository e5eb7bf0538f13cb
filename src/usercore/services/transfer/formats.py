"""Reading an import's source: usercore's JSON Lines, or another system's export, record by record.

Every reader streams: a JSON array (Django's ``dumpdata``, Auth0) is decoded
one element at a time, never loaded whole. Foreign records are turned into
the export format here; the importer then validates them like any record.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from usercore.domain.errors import ValidationError
from usercore.domain.ids import UserId, uuid7_from_parts
from usercore.services.transfer.importer import SourceRecord
from usercore.services.transfer.records import RecordError, rfc3339

#: Where records can come from (``usercore users import --from``).
SOURCES = ("usercore", "django", "fastapi-users", "flask-security", "auth0")

#: The prefix of a Flask-Security hash, whose first step is an HMAC keyed by the app's salt.
FLASK_SECURITY_PREFIX = "flask-security$"

_CHUNK = 1 << 16
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n", ""}

#: One foreign record: its fields in the export format, and the foreign id.
Converted = tuple[dict[str, Any], str | None]


def read_records(stream: TextIO, source: str = "usercore") -> Iterator[SourceRecord]:
    """The records of ``stream``, in the shape of ``source`` (one of :data:`SOURCES`).

    ``usercore`` reads JSON Lines; ``django`` and ``auth0`` a JSON array or
    JSON Lines; ``fastapi-users`` and ``flask-security`` CSV with a header
    line, or JSON Lines.
    """
    convert = _CONVERTERS[source]
    for line, document, error in _documents(stream, source):
        if error is not None:
            yield SourceRecord(line, None, error)
        elif not isinstance(document, dict):
            yield SourceRecord(line, None, "not a JSON object")
        else:
            try:
                fields, source_id = convert(document)
            except RecordError as exc:
                yield SourceRecord(line, None, exc.reason)
            else:
                yield SourceRecord(line, fields, source_id=source_id)


def derived_user_id(source: str, source_id: str, created_at: datetime | None) -> str:
    """The UUIDv7 a foreign record gets: the same on every run, so a rerun finds its user.

    Its time is the record's creation time (ids keep sorting by creation);
    its other bits come from the foreign id, not from chance.
    """
    millis = 0 if created_at is None else int(created_at.timestamp() * 1000)
    seed = hashlib.blake2b(f"{source}:{source_id}".encode(), digest_size=10).digest()
    return str(uuid7_from_parts(millis, seed))


def _documents(stream: TextIO, source: str) -> Iterator[tuple[int, Any, str | None]]:
    head = stream.read(_CHUNK)
    first = head.lstrip()[:1]
    if first == "[" and source in ("django", "auth0"):
        yield from _json_array(head, stream)
    elif first not in ("{", "") and source in ("fastapi-users", "flask-security"):
        yield from _csv_rows(head, stream)
    else:
        yield from _json_lines(head, stream)


def _lines(head: str, stream: TextIO) -> Iterator[str]:
    rest = "" if head.endswith("\n") or not head else stream.readline()
    yield from (head + rest).splitlines(keepends=True)
    yield from stream


def _json_lines(head: str, stream: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    for number, text in enumerate(_lines(head, stream), start=1):
        if not text.strip():
            continue
        try:
            yield number, json.loads(text), None
        except json.JSONDecodeError as exc:
            yield number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"


def _csv_rows(head: str, stream: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    reader = csv.DictReader(_lines(head, stream))
    start = 2  # the line after the header
    try:
        for row in reader:
            if None in row:
                yield start, None, "more values than the header has columns"
            else:
                yield start, {k: (None if v is None else v) for k, v in row.items()}, None
            start = reader.line_num + 1
    except csv.Error as exc:
        yield reader.line_num, None, f"not valid CSV ({exc})"


def _json_array(head: str, stream: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    decoder = json.JSONDecoder()
    buffer, at, line = head, head.index("[") + 1, 1 + head[: head.index("[")].count("\n")
    eof = False

    def skip_space() -> None:
        nonlocal buffer, at, line, eof
        while True:
            stripped = len(buffer) - len(buffer[at:].lstrip())
            line += buffer.count("\n", at, stripped)
            at = stripped
            if at < len(buffer) or eof:
                return
            buffer, at = stream.read(_CHUNK), 0
            eof = not buffer

    while True:
        skip_space()
        if buffer[at : at + 1] == "]":
            return
        while True:
            try:
                document, end = decoder.raw_decode(buffer, at)
                break
            except json.JSONDecodeError as exc:
                more = "" if eof else stream.read(_CHUNK)
                if not more:
                    yield line, None, f"not valid JSON ({exc.msg})"
                    return
                buffer, at = buffer[at:] + more, 0
        yield line, document, None
        line += buffer.count("\n", at, end)
        at = end
        if at > _CHUNK:  # keep only what is still to be read
            buffer, at = buffer[at:], 0
        skip_space()
        separator = buffer[at : at + 1]
        if separator == ",":
            at += 1
        elif separator != "]":
            yield line, None, "not valid JSON (expected ',' or ']' between records)"
            return


def _flag(value: Any, default: bool) -> Any:
    # CSV gives text ("t", "true", "1"); anything else is passed on for the
    # importer to refuse by name.
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    return value


def _foreign_time(value: Any, field: str) -> datetime | None:
    if isinstance(value, Mapping) and "$date" in value:  # MongoDB extended JSON
        value = value["$date"]
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field}: must be a timestamp")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(f"{field}: must be an ISO 8601 timestamp") from None
    # Django without USE_TZ and Flask-Security store naive UTC times.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _our_id(source: str, source_id: str, created_at: datetime | None) -> tuple[str, str | None]:
    """Keep a foreign UUID as the id; derive one (and report the foreign id) otherwise."""
    try:
        return UserId.parse(source_id).value, None
    except ValidationError:
        return derived_user_id(source, source_id, created_at), source_id


def _times(record: dict[str, Any], created: datetime | None, updated: datetime | None) -> None:
    if created is not None:
        record["created_at"] = rfc3339(created)
        record["updated_at"] = rfc3339(updated or created)


def _usercore(document: dict[str, Any]) -> Converted:
    return document, None


def _django(document: dict[str, Any]) -> Converted:
    fields = document.get("fields")
    if not isinstance(fields, dict) or "pk" not in document:
        raise RecordError("not a Django dumpdata record (needs 'pk' and 'fields')")
    joined = _foreign_time(fields.get("date_joined"), "date_joined")
    source_id = str(document["pk"])
    if not fields.get("email"):
        raise RecordError(f"email: the Django user {fields.get('username', source_id)!r} has none")
    roles = ["user"]
    if fields.get("is_superuser") is True:
        roles.append("admin")
    if fields.get("is_staff") is True:
        roles.append("staff")
    names = (fields.get("first_name") or "", fields.get("last_name") or "")
    record: dict[str, Any] = {
        "id": derived_user_id("django", source_id, joined),
        "email": fields["email"],
        "name": " ".join(part for part in names if isinstance(part, str) and part),
        "roles": roles,
        "is_active": fields.get("is_active", True),
        "password_hash": fields.get("password") or None,
    }
    _times(record, joined, None)
    return record, source_id


def _fastapi_users(document: dict[str, Any]) -> Converted:
    user_id, source_id = _our_id("fastapi-users", str(document.get("id", "")), None)
    superuser = _flag(document.get("is_superuser"), default=False) is True
    return {
        "id": user_id,
        "email": document.get("email"),
        "roles": ["user", "admin"] if superuser else ["user"],
        "is_active": _flag(document.get("is_active"), default=True),
        "is_verified": _flag(document.get("is_verified"), default=False),
        "password_hash": document.get("hashed_password") or None,
    }, source_id


def _flask_security(document: dict[str, Any]) -> Converted:
    created = _foreign_time(document.get("create_datetime"), "create_datetime")
    updated = _foreign_time(document.get("update_datetime"), "update_datetime")
    user_id, source_id = _our_id("flask-security", str(document.get("id", "")), created)
    roles = document.get("roles") or []
    if isinstance(roles, str):
        roles = [name.strip() for name in roles.split(",") if name.strip()]
    password = document.get("password") or None
    if isinstance(password, str) and not password.startswith(FLASK_SECURITY_PREFIX):
        password = FLASK_SECURITY_PREFIX + password
    record: dict[str, Any] = {
        "id": user_id,
        "email": document.get("email"),
        "roles": sorted({"user", *(str(name).lower() for name in roles)}),
        "is_active": _flag(document.get("active"), default=True),
        "is_verified": document.get("confirmed_at") not in (None, ""),
        "password_hash": password,
    }
    _times(record, created, updated)
    return record, source_id


def _auth0_password(document: dict[str, Any]) -> str | None:
    custom = document.get("custom_password_hash")
    if isinstance(custom, dict):
        algorithm = custom.get("algorithm")
        value = (custom.get("hash") or {}).get("value")
        if algorithm not in ("bcrypt", "argon2") or not isinstance(value, str):
            raise RecordError(f"custom_password_hash: algorithm {algorithm!r} is not supported")
        return value
    password = document.get("password_hash") or document.get("passwordHash")
    return password if isinstance(password, str) and password else None


def _auth0(document: dict[str, Any]) -> Converted:
    raw_id = document.get("user_id") or (document.get("_id") or {}).get("$oid")
    if not isinstance(raw_id, str) or not raw_id:
        raise RecordError("user_id: an Auth0 record needs one")
    created = _foreign_time(document.get("created_at"), "created_at")
    updated = _foreign_time(document.get("updated_at"), "updated_at")
    name = document.get("name")
    if not isinstance(name, str):
        parts = (document.get("given_name"), document.get("family_name"))
        name = " ".join(part for part in parts if isinstance(part, str) and part)
    record: dict[str, Any] = {
        "id": derived_user_id("auth0", raw_id, created),
        "email": document.get("email"),
        "name": name,
        "is_active": not document.get("blocked", False),
        "is_verified": document.get("email_verified", False),
        "metadata": document.get("user_metadata") or {},
        "app_metadata": document.get("app_metadata") or {},
        "password_hash": _auth0_password(document),
    }
    _times(record, created, updated)
    return record, raw_id


_CONVERTERS: dict[str, Callable[[dict[str, Any]], Converted]] = {
    "usercore": _usercore,
    "django": _django,
    "fastapi-users": _fastapi_users,
    "flask-security": _flask_security,
    "auth0": _auth0,
}
