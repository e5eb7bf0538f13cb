from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.conftest import PASSWORD, World, make_world
from usercore.domain import (
    InvalidCredentialsError,
    PasswordPolicy,
    ValidationError,
    WeakPasswordError,
)
from usercore.services import AuthService
from usercore.testing import FastTestHasher
from usercore.testing.strategies import emails, passwords

POLICY = PasswordPolicy()


@given(email=emails(), password=passwords(POLICY), other=st.text(max_size=40))
async def test_an_accepted_password_authenticates_and_no_other_string_does(
    email: str, password: str, other: str
) -> None:
    world = make_world()
    try:
        user = await world.users.register(email=email, password=password)
    except WeakPasswordError as exc:
        refusal = exc.reasons
    else:
        refusal = ()
    if refusal:  # the policy accepted it alone, so only a context word may refuse it
        assert refusal[0] == "Don't use your email address or your name in your password."
        return
    assert (await world.auth.authenticate(email=email, password=password)).id == user.id
    if other != password:
        with pytest.raises(InvalidCredentialsError):
            await world.auth.authenticate(email=email, password=other)


async def test_password_typed_in_another_unicode_form_verifies(world: World) -> None:
    await world.users.register(email="ada@example.com", password="mot de passe fort " + "\u00e9")
    user = await world.auth.authenticate(
        email="ada@example.com", password="mot de passe fort " + "e\u0301"
    )
    assert user.email.value == "ada@example.com"


async def test_passwords_are_never_truncated(world: World) -> None:
    long_password = "correct horse battery staple " + "p" * 271
    await world.users.register(email="ada@example.com", password=long_password)
    with pytest.raises(InvalidCredentialsError):
        await world.auth.authenticate(email="ada@example.com", password=long_password[:-1])
    with pytest.raises(InvalidCredentialsError):
        await world.auth.authenticate(email="ada@example.com", password=long_password + "p")


@pytest.mark.parametrize(
    ("email", "password", "setup"),
    [
        ("nobody@example.com", PASSWORD, "none"),
        ("not an email", PASSWORD, "none"),
        ("ada@example.com", "wrong password entirely", "active"),
        ("ada@example.com", PASSWORD, "inactive"),
        ("ada@example.com", "wrong password entirely", "inactive"),
    ],
)
async def test_every_failed_path_verifies_exactly_once_and_raises_the_same_error(
    world: World, email: str, password: str, setup: str
) -> None:
    if setup != "none":
        user = await world.register("ada@example.com")
        if setup == "inactive":
            admin = await world.register("root@example.com", admin=True)
            await world.users.admin_update(actor=admin, user_id=user.id, is_active=False)
    before = world.hasher.verify_calls
    with pytest.raises(InvalidCredentialsError) as caught:
        await world.auth.authenticate(email=email, password=password)
    assert world.hasher.verify_calls - before == 1
    assert str(caught.value) == "invalid email or password"


async def test_an_over_long_password_is_refused_before_hashing(world: World) -> None:
    await world.register("ada@example.com")
    before = world.hasher.verify_calls
    with pytest.raises(ValidationError):
        await world.auth.authenticate(email="ada@example.com", password="x" * 1025)
    assert world.hasher.verify_calls == before


async def test_a_failed_login_leaves_the_stored_hash_byte_identical(world: World) -> None:
    user = await world.register("ada@example.com")
    stronger = FastTestHasher(cost=2)
    auth = AuthService(users=world.repository, hasher=stronger, clock=world.clock, throttle=None)
    with pytest.raises(InvalidCredentialsError):
        await auth.authenticate(email="ada@example.com", password="not the password at all")
    stored = await world.repository.get(user.id)
    assert stored == user
    assert stored is not None
    assert stored.password_hash.value == user.password_hash.value


async def test_rehashes_after_a_successful_login_when_parameters_changed(world: World) -> None:
    user = await world.register("ada@example.com")
    assert user.password_hash.value.startswith("$fast$c=1$")
    stronger = FastTestHasher(cost=2)
    auth = AuthService(users=world.repository, hasher=stronger, clock=world.clock, throttle=None)
    logged_in = await auth.authenticate(email="ada@example.com", password=PASSWORD)
    assert logged_in.password_hash.value.startswith("$fast$c=2$")
    assert logged_in.version == user.version + 1
    assert logged_in.credential_epoch == user.credential_epoch  # a rehash ends no session
    assert await world.repository.get(user.id) == logged_in
    again = await auth.authenticate(email="ada@example.com", password=PASSWORD)
    assert again == logged_in  # no second rehash with unchanged parameters
    assert stronger.hash_calls == 1


async def test_no_rehash_when_parameters_are_current(world: World) -> None:
    user = await world.register("ada@example.com")
    hashes_before = world.hasher.hash_calls
    assert await world.auth.authenticate(email="ADA@example.com", password=PASSWORD) == user
    assert world.hasher.hash_calls == hashes_before
