"""Every public use case, called with wrong types: only UserCoreError subclasses come out.

The rule (usercore.services.arguments): plain forms a user would pass (a
UUID string, role names) are parsed; anything else is a ValidationError
naming the argument, never a TypeError, an AttributeError or a stored value
of the wrong type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.conftest import PASSWORD, World, make_world
from usercore.domain.errors import SessionNotFoundError, UserCoreError, ValidationError
from usercore.domain.listing import UserQuery
from usercore.domain.roles import Role
from usercore.services import SessionService

#: Values of every other type than the one asked for.
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.frozensets(st.integers(), max_size=2),
    st.just(object()),
)


async def _world() -> tuple[World, dict[str, Any]]:
    world = make_world()
    admin = await world.register("root@example.com", admin=True)
    ada = await world.register("ada@example.com", name="Ada")
    return world, {"admin": admin, "ada": ada}


VALID: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "register": (
        "users",
        lambda u: {"email": "new@example.com", "password": PASSWORD, "name": "New"},
    ),
    "create_user": (
        "users",
        lambda u: {
            "email": "new@example.com",
            "password": PASSWORD,
            "name": "",
            "roles": ["user", "editor"],
            "is_verified": True,
        },
    ),
    "find": ("users", lambda u: {"user_id": u["ada"].id.value}),
    "get_user": ("users", lambda u: {"actor": u["ada"], "user_id": u["ada"].id.value}),
    "list_users": ("users", lambda u: {"actor": u["admin"], "query": UserQuery(limit=5)}),
    "update_profile": (
        "users",
        lambda u: {"actor": u["ada"], "name": "Ada L.", "expected_version": u["ada"].version},
    ),
    "change_email": (
        "users",
        lambda u: {"actor": u["ada"], "email": "ada@new.example", "current_password": PASSWORD},
    ),
    "change_password": (
        "users",
        lambda u: {
            "actor": u["ada"],
            "current_password": PASSWORD,
            "new_password": "an entirely new passphrase",
        },
    ),
    "delete_self": ("users", lambda u: {"actor": u["ada"], "current_password": PASSWORD}),
    "admin_update": (
        "users",
        lambda u: {
            "actor": u["admin"],
            "user_id": u["ada"].id.value,
            "name": "A",
            "email": "ada@other.example",
            "roles": {Role.USER, "editor"},
            "is_active": False,
            "is_verified": True,
            "expected_version": u["ada"].version,
        },
    ),
    "admin_delete": ("users", lambda u: {"actor": u["admin"], "user_id": u["ada"].id.value}),
    "authenticate": ("auth", lambda u: {"email": "ada@example.com", "password": PASSWORD}),
    "list_sessions": ("sessions", lambda u: {"actor": u["ada"]}),
    "revoke_session": (
        "sessions",
        lambda u: {"actor": u["ada"], "session_id": "0193a000-0000-7000-8000-0000000000aa"},
    ),
    "revoke_all": ("sessions", lambda u: {"actor": u["ada"]}),
    "admin_revoke_all": (
        "sessions",
        lambda u: {"actor": u["admin"], "user_id": u["ada"].id.value},
    ),
}


async def _call(method: str, world: World, kwargs: dict[str, Any]) -> object:
    owner, _ = VALID[method]
    service: Any
    if owner == "sessions":
        service = SessionService(users=world.repository, sessions=world.sessions, clock=world.clock)
    else:
        service = getattr(world, owner)
    return await getattr(service, method)(**kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(VALID))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_wrong_types_give_only_usercore_errors(method: str, data: st.DataObject) -> None:
    world, users = await _world()
    kwargs = VALID[method][1](users)
    spoiled = data.draw(st.sets(st.sampled_from(sorted(kwargs)), min_size=1))
    for name in spoiled:
        kwargs[name] = data.draw(JUNK, label=name)
    try:
        await _call(method, world, kwargs)
    except UserCoreError:
        return
    # Accepted: every stored user must still be well-typed.
    for user in (await world.repository.list(UserQuery(limit=100))).items:
        assert all(isinstance(role, Role) for role in user.roles)
        assert isinstance(user.is_active, bool)
        assert isinstance(user.name, str)


@pytest.mark.parametrize("method", sorted(VALID))
async def test_the_plain_forms_are_accepted(method: str) -> None:
    world, users = await _world()
    try:
        await _call(method, world, VALID[method][1](users))
    except ValidationError as exc:
        pytest.fail(f"{method} refused a plain argument: {exc}")
    except SessionNotFoundError:
        assert method == "revoke_session"  # the id is well-formed, just not a session


async def test_roles_given_as_names_are_real_roles_and_the_user_can_log_in() -> None:
    # Stored plain strings once made the next login fail with AttributeError.
    world, users = await _world()
    editor = await world.users.create_user(
        email="ed@example.com", password=PASSWORD, roles=frozenset({"admin"})
    )
    assert editor.is_admin
    await world.auth.authenticate(email="ed@example.com", password=PASSWORD)
    changed = await world.users.admin_update(
        actor=users["admin"], user_id=users["ada"].id.value, roles={"editor"}
    )
    assert changed.roles == frozenset({Role("editor")})
