"""Listing filters on SQL agree with the in-memory adapter, odd prefixes included."""

from __future__ import annotations

import pytest

from tests.integration.sqlalchemy.support import open_database, repositories_on
from usercore.adapters.memory import InMemoryUserRepository
from usercore.adapters.sqlalchemy.users import prefix_range
from usercore.domain.listing import UserQuery
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.ports.users import UserRepository
from usercore.testing import RecordFactory

EMAILS = [
    "ada@example.com",
    "adam@example.com",
    "ad_m@example.com",
    "ad%m@example.com",
    "adz@example.com",
    "ae@example.com",
    "josé@example.com",
    "josf@example.com",
    "zoë@example.com",
    "δοκιμή@example.com",
    "用户@example.com",
    "z@xn--bcher-kva.example",
]
PREFIXES = [
    "",
    "a",
    "ad",
    "adz",
    "ad_",
    "ad%",
    "jos",
    "josé",
    "zo",
    "δ",
    "用",
    "z\U0010ffff",
    "\U0010ffff",
    "\x00",
    "a\ud800",
    "ada@example.com",
    "zzzz",
]
AUDITOR = Role("auditor")


def _users() -> list[User]:
    make = RecordFactory()
    users = []
    for index, email in enumerate(EMAILS):
        roles = frozenset({Role.USER, AUDITOR}) if index % 3 == 0 else frozenset({Role.USER})
        users.append(make.user(email=email, roles=roles, is_active=index % 4 != 1))
    return users


async def _walk(repository: UserRepository, query: UserQuery) -> list[User]:
    found: list[User] = []
    while True:
        page = await repository.list(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = UserQuery.from_cursor(
            limit=query.limit,
            cursor=page.next_cursor,
            email_prefix=query.email_prefix,
            role=query.role,
            is_active=query.is_active,
        )


def test_the_prefix_range_covers_exactly_the_prefixed_strings() -> None:
    assert prefix_range("ab", nul_allowed=True) == ("ab", "ac")
    assert prefix_range("a\U0010ffff", nul_allowed=True) == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff", nul_allowed=True) == ("\U0010ffff", None)
    assert prefix_range("a\ud7ff", nul_allowed=True) == ("a\ud7ff", "a\ue000")
    assert prefix_range("a\ud800", nul_allowed=True) is None
    assert prefix_range("a\x00", nul_allowed=False) is None


async def test_every_filter_and_page_size_agrees_with_the_memory_adapter(sql_url: str) -> None:
    users = _users()
    memory = InMemoryUserRepository()
    database = open_database(sql_url)
    sql = repositories_on(database).users
    try:
        for user in users:
            await memory.add(user)
            await sql.add(user)
        for prefix in PREFIXES:
            for role in (None, AUDITOR, Role("nobody")):
                for is_active in (None, True, False):
                    for limit in (1, 3, 100):
                        query = UserQuery(
                            limit=limit, email_prefix=prefix, role=role, is_active=is_active
                        )
                        expected = await _walk(memory, query)
                        assert await _walk(sql, query) == expected, query
    finally:
        await database.dispose()


@pytest.mark.parametrize("prefix", ["ad", "用"])
async def test_a_prefix_matches_the_normalised_email_only(sql_url: str, prefix: str) -> None:
    database = open_database(sql_url)
    sql = repositories_on(database).users
    try:
        for user in _users():
            await sql.add(user)
        found = await _walk(sql, UserQuery(limit=100, email_prefix=prefix.upper()))
        assert found
        assert all(user.email.value.startswith(prefix.lower()) for user in found)
    finally:
        await database.dispose()
