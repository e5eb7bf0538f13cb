"""Reading other systems' exports into usercore records, streamed, with their line numbers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from tests.unit.test_import_logins import (
    auth0_export,
    django_dump,
    fastapi_users_csv,
    flask_security_csv,
)
from usercore.services.transfer import read_records
from usercore.services.transfer.formats import derived_user_id


def test_reads_a_django_dumpdata_array_with_stable_derived_ids() -> None:
    [record] = read_records(io.StringIO(django_dump("pbkdf2_sha256$1$s$x")), "django")
    assert record.line == 2  # the object opens on the array's second line
    assert record.source_id == "42"
    fields = record.fields
    assert fields is not None
    joined = datetime(2021, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    assert fields["id"] == derived_user_id("django", "42", joined)
    assert fields["name"] == "Ada Lovelace"
    assert fields["roles"] == ["user", "admin"]
    assert fields["created_at"] == "2021-03-04T05:06:07.891Z"
    again = next(iter(read_records(io.StringIO(django_dump("x")), "django")))
    assert again.fields is not None
    assert again.fields["id"] == fields["id"]  # a rerun finds the same user


def test_streams_a_large_single_line_json_array_element_by_element() -> None:
    users = [
        {"model": "auth.user", "pk": i, "fields": {"email": f"u{i}@example.com", "password": "!"}}
        for i in range(5000)
    ]
    records = list(read_records(io.StringIO(json.dumps(users)), "django"))
    assert len(records) == 5000
    assert {r.line for r in records} == {1}
    assert records[-1].source_id == "4999"
    broken = list(read_records(io.StringIO('[{"pk": 1, "fields": {}}, {"pk": '), "django"))
    assert broken[0].error == "email: the Django user '1' has none"
    assert (broken[1].error or "").startswith("not valid JSON")


def test_reads_fastapi_users_and_flask_security_tables_as_csv() -> None:
    [fastapi] = read_records(io.StringIO(fastapi_users_csv("$2b$x")), "fastapi-users")
    assert fastapi.line == 2
    assert fastapi.source_id is None  # its UUID is kept as the id
    assert fastapi.fields is not None
    assert fastapi.fields["id"] == "5f0c3f6e-7a3b-4d2a-9d7e-6f1c2b3a4d5e"
    assert (fastapi.fields["is_active"], fastapi.fields["is_verified"]) == (True, True)
    [flask] = read_records(io.StringIO(flask_security_csv("$2b$x")), "flask-security")
    assert flask.source_id == "7"
    assert flask.fields is not None
    assert flask.fields["password_hash"] == "flask-security$$2b$x"
    assert flask.fields["roles"] == ["admin", "editor", "user"]
    assert flask.fields["is_verified"] is True
    assert flask.fields["created_at"] == "2021-12-31T09:00:00.250Z"


def test_reads_auth0_exports_and_refuses_hashes_it_cannot_verify() -> None:
    [auth0] = read_records(io.StringIO(auth0_export("$2a$x")), "auth0")
    assert auth0.source_id == "auth0|65f0c1d2e3"
    assert auth0.fields is not None
    assert auth0.fields["name"] == "Grace Hopper"
    assert auth0.fields["is_verified"] is True
    custom = {
        "email": "a@example.com",
        "user_id": "x",
        "custom_password_hash": {"algorithm": "md5"},
    }
    [refused] = read_records(io.StringIO(json.dumps(custom)), "auth0")
    assert refused.error == "custom_password_hash: algorithm 'md5' is not supported"
