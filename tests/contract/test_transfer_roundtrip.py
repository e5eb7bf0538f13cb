"""Export from any backend, import into any other: the same users, and they can log in.

A hypothesis property over generated users: stored in every backend, each
backend's export must be the same records; those records imported into
every backend must export back unchanged. Together that is every pair.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract.test_memory import memory_repositories
from tests.integration.mongo.support import mongo_repositories
from tests.integration.sqlalchemy.support import (
    fresh_sqlite,
    postgres_url,
    sql_repositories,
    sqlite_template,
)
from tests.unit.conftest import RULES
from usercore.domain.user import User
from usercore.services import AuthService, UserService
from usercore.services.transfer import ImportStatus, user_to_record
from usercore.testing import FastTestHasher, ManualClock, Repositories, SequentialIds
from usercore.testing.strategies import users

__all__ = ["postgres_url", "sqlite_template"]  # session fixtures, shared with this module

Backend = Callable[[], AbstractAsyncContextManager[Repositories]]
PASSWORD = "correct horse battery staple"


_hasher = FastTestHasher()
HASHES = [asyncio.run(_hasher.hash(PASSWORD)) for _ in range(8)]


def _salted(user: User, salt: int) -> User:
    # Generated hashes are opaque text; an import accepts only hashes its
    # hasher can verify, so each user gets a real (fast, test) hash instead.
    return attrs.evolve(user, password_hash=HASHES[salt])


user_sets = st.lists(users(), max_size=6, unique_by=(lambda u: u.id, lambda u: u.email)).map(
    lambda drawn: [_salted(user, i) for i, user in enumerate(drawn)]
)


def services(repositories: Repositories) -> tuple[UserService, AuthService]:
    clock, hasher = ManualClock(), FastTestHasher()
    user_service = UserService(
        users=repositories.users,
        hasher=hasher,
        policy=RULES,
        clock=clock,
        ids=SequentialIds(clock),
        throttle=None,
    )
    auth = AuthService(users=repositories.users, hasher=hasher, clock=clock, throttle=None)
    return user_service, auth


async def round_trip(backends: dict[str, Backend], given_users: list[User]) -> None:
    expected = [user_to_record(user) for user in sorted(given_users, key=lambda u: u.id)]
    for name, backend in backends.items():
        async with backend() as repositories:
            await repositories.users.add_many(given_users)
            exported = [r async for r in services(repositories)[0].export_users()]
        assert exported == expected, f"export from {name}"
    for name, backend in backends.items():
        async with backend() as repositories:
            user_service, auth = services(repositories)
            outcomes = [o async for o in user_service.import_users(expected, batch_size=4)]
            assert {o.status for o in outcomes} <= {ImportStatus.IMPORTED}, f"import into {name}"
            assert [r async for r in user_service.export_users()] == expected, f"into {name}"
            for record in expected:
                if record["is_active"]:
                    await auth.authenticate(email=record["email"], password=PASSWORD)


def check_every_pair(backends: dict[str, Backend]) -> None:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(given_users=user_sets)
    def prop(given_users: list[User]) -> None:
        asyncio.run(round_trip(backends, given_users))

    prop()


def _backends(sqlite_template: Path, tmp_path: Path, **extra: Backend) -> dict[str, Backend]:
    def sqlite() -> AbstractAsyncContextManager[Repositories]:
        directory = tmp_path / secrets.token_hex(4)
        directory.mkdir()
        return sql_repositories(fresh_sqlite(sqlite_template, directory))

    return {
        "memory": memory_repositories,
        "sqlite": sqlite,
        "mongo": mongo_repositories,
        **extra,
    }


@pytest.mark.mongo
def test_export_import_between_memory_sqlite_and_mongo(
    sqlite_template: Path, tmp_path: Path
) -> None:
    check_every_pair(_backends(sqlite_template, tmp_path))


@pytest.mark.postgres
@pytest.mark.mongo
def test_export_import_between_every_backend_and_postgres(
    sqlite_template: Path, tmp_path: Path, postgres_url: str
) -> None:
    def postgres() -> AbstractAsyncContextManager[Repositories]:
        return sql_repositories(postgres_url, empty_first=True)

    check_every_pair(_backends(sqlite_template, tmp_path, postgres=postgres))
