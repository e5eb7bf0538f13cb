"""Users imported from other systems log in over HTTP with their old password, then get argon2id."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.foreign_hashes import (
    FLASK_SECURITY_SALT,
    bcrypt_hash,
    django_hash,
    flask_security_hash,
    passlib_hash,
    pwdlib_hash,
)
from tests.unit.test_http_kit import running_api
from usercore.config import Settings
from usercore.container import Container, build_container, resolve
from usercore.domain.email import Email
from usercore.ports.users import UserRepository
from usercore.services.transfer import ImportStatus, read_records
from usercore.services.users import UserService

PASSWORD = "the pässword I had before"
EMAIL = "Migrated.User@Example.COM"


def django_dump(password_hash: str) -> str:
    # What `manage.py dumpdata auth.user --indent 2` writes.
    return json.dumps(
        [
            {
                "model": "auth.user",
                "pk": 42,
                "fields": {
                    "password": password_hash,
                    "last_login": None,
                    "is_superuser": True,
                    "username": "ada",
                    "first_name": "Ada",
                    "last_name": "Lovelace",
                    "email": EMAIL,
                    "is_staff": False,
                    "is_active": True,
                    "date_joined": "2021-03-04T05:06:07.891Z",
                    "groups": [],
                    "user_permissions": [],
                },
            }
        ],
        indent=2,
    )


def table_csv(row: dict[str, str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue()


def fastapi_users_csv(password_hash: str) -> str:
    return table_csv(
        {
            "id": "5f0c3f6e-7a3b-4d2a-9d7e-6f1c2b3a4d5e",
            "email": EMAIL,
            "hashed_password": password_hash,
            "is_active": "t",
            "is_superuser": "f",
            "is_verified": "t",
        }
    )


def flask_security_csv(password_hash: str) -> str:
    return table_csv(
        {
            "id": "7",
            "email": EMAIL,
            "password": password_hash,
            "active": "1",
            "fs_uniquifier": "b0c1",
            "confirmed_at": "2022-01-01 10:00:00",
            "create_datetime": "2021-12-31 09:00:00.250000",
            "update_datetime": "2022-01-01 10:00:00",
            "roles": "Admin,editor",
        }
    )


def auth0_export(password_hash: str) -> str:
    record = {
        "user_id": "auth0|65f0c1d2e3",
        "email": EMAIL,
        "email_verified": True,
        "given_name": "Grace",
        "family_name": "Hopper",
        "blocked": False,
        "created_at": "2020-01-02T03:04:05.678Z",
        "password_hash": password_hash,
    }
    return json.dumps(record) + "\n"


CASES: dict[str, tuple[str, Callable[[], str]]] = {
    "django pbkdf2_sha256": ("django", lambda: django_dump(django_hash("pbkdf2_sha256", PASSWORD))),
    "django pbkdf2_sha1": ("django", lambda: django_dump(django_hash("pbkdf2_sha1", PASSWORD))),
    "django argon2": ("django", lambda: django_dump(django_hash("argon2", PASSWORD))),
    "django bcrypt_sha256": ("django", lambda: django_dump(django_hash("bcrypt_sha256", PASSWORD))),
    "django bcrypt": ("django", lambda: django_dump(django_hash("bcrypt", PASSWORD))),
    "django scrypt": ("django", lambda: django_dump(django_hash("scrypt", PASSWORD))),
    "fastapi-users pwdlib argon2": (
        "fastapi-users",
        lambda: fastapi_users_csv(pwdlib_hash("argon2", PASSWORD)),
    ),
    "fastapi-users pwdlib bcrypt": (
        "fastapi-users",
        lambda: fastapi_users_csv(pwdlib_hash("bcrypt", PASSWORD)),
    ),
    "fastapi-users passlib bcrypt": (
        "fastapi-users",
        lambda: fastapi_users_csv(passlib_hash("bcrypt", PASSWORD)),
    ),
    "flask-security pbkdf2_sha512": (
        "flask-security",
        lambda: flask_security_csv(flask_security_hash("pbkdf2_sha512", PASSWORD)),
    ),
    "auth0 bcrypt $2a$": ("auth0", lambda: auth0_export(bcrypt_hash(PASSWORD, prefix=b"$2a$"))),
    "auth0 bcrypt $2b$": ("auth0", lambda: auth0_export(bcrypt_hash(PASSWORD))),
}


def argon2_container(data_dir: Path) -> Container:
    settings = Settings.load(
        {
            "database_url": "memory://",
            "data_dir": data_dir,
            "argon2_memory_kib": 1024,
            "argon2_time_cost": 1,
            "flask_security_password_salt": FLASK_SECURITY_SALT,
        },
        environ={},
    )
    return build_container(settings)


async def grant(api: object, password: str) -> int:
    response = await api.client.post(  # type: ignore[attr-defined]
        "/auth/token",
        data={"grant_type": "password", "username": EMAIL.lower(), "password": password},
    )
    return int(response.status_code)


@pytest.mark.parametrize("case", sorted(CASES))
async def test_an_imported_user_logs_in_and_is_upgraded_to_argon2id(
    case: str, tmp_path: Path
) -> None:
    source, make = CASES[case]
    container = argon2_container(tmp_path)
    async with running_api(container) as api:
        users: UserService = await resolve(container.user_service())
        outcomes = [o async for o in users.import_users(read_records(io.StringIO(make()), source))]
        assert [o.status for o in outcomes] == [ImportStatus.IMPORTED], outcomes
        repository: UserRepository = await resolve(container.user_repository())
        before = await repository.get_by_email(Email.parse(EMAIL))
        assert before is not None
        assert not before.password_hash.value.startswith("$argon2id$v=19$m=1024")

        assert await grant(api, PASSWORD + " wrong") == 400
        assert await grant(api, PASSWORD) == 200

        after = await repository.get_by_email(Email.parse(EMAIL))
        assert after is not None
        assert after.password_hash.value.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
        assert after.credential_epoch == before.credential_epoch  # a rehash ends no session
        assert await grant(api, PASSWORD) == 200
        assert await grant(api, PASSWORD + " wrong") == 400
