from __future__ import annotations

import asyncio

import pytest

from tests.unit.conftest import PASSWORD, World
from usercore.domain import (
    EmailTakenError,
    InvalidCredentialsError,
    PermissionDeniedError,
    Role,
    UserId,
    UserNotFoundError,
    UserQuery,
    ValidationError,
    VersionConflictError,
    WeakPasswordError,
)


async def test_a_new_user_is_an_active_unverified_user_at_version_one(world: World) -> None:
    user = await world.users.register(email="Ada@Example.com", password=PASSWORD, name="Ada")
    assert user.email.value == "ada@example.com"
    assert user.roles == frozenset({Role.USER})
    assert (user.is_active, user.is_verified, user.version) == (True, False, 1)
    assert user.created_at == user.updated_at == world.clock.now()
    assert user.credential_epoch == 1
    assert await world.repository.get(user.id) == user


async def test_register_refuses_a_taken_email_in_any_case(world: World) -> None:
    await world.users.register(email="ada@example.com", password=PASSWORD)
    with pytest.raises(EmailTakenError):
        await world.users.register(email="ADA@EXAMPLE.COM", password=PASSWORD)


async def test_register_refuses_weak_passwords_before_hashing(world: World) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        await world.users.register(email="ada@example.com", password="short")
    assert caught.value.reasons
    with pytest.raises(WeakPasswordError):
        await world.users.register(email="adalovelace@example.com", password="adalovelace rocks!!")
    assert world.hasher.hash_calls == 0
    assert (await world.repository.list(UserQuery())).items == ()


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("name", {"name": "x" * 201}),
        ("name", {"name": "bell\x07"}),
    ],
)
async def test_register_names_the_invalid_field(
    world: World, field: str, kwargs: dict[str, str]
) -> None:
    arguments = {"email": "ada@example.com", "password": PASSWORD, **kwargs}
    with pytest.raises(ValidationError) as caught:
        await world.users.register(**arguments)
    assert caught.value.field == field


async def test_operator_creates_an_admin(world: World) -> None:
    admin = await world.users.create_user(
        email="root@example.com", password=PASSWORD, roles=frozenset({Role.USER, Role.ADMIN})
    )
    assert admin.is_admin


async def test_users_read_themselves_and_admins_read_anyone(world: World) -> None:
    ada = await world.register("ada@example.com")
    admin = await world.register("root@example.com", admin=True)
    assert await world.users.get_user(actor=ada, user_id=ada.id) == ada
    assert await world.users.get_user(actor=admin, user_id=ada.id) == ada


async def test_a_non_admin_reading_another_user_gets_not_found(world: World) -> None:
    ada = await world.register("ada@example.com")
    bob = await world.register("bob@example.com")
    with pytest.raises(UserNotFoundError):
        await world.users.get_user(actor=bob, user_id=ada.id)
    with pytest.raises(UserNotFoundError):
        await world.users.get_user(
            actor=bob, user_id=UserId("00000000-0000-7000-8000-000000000000")
        )


async def test_an_admin_reading_a_missing_user_gets_not_found(world: World) -> None:
    admin = await world.register("root@example.com", admin=True)
    with pytest.raises(UserNotFoundError):
        await world.users.get_user(
            actor=admin, user_id=UserId("00000000-0000-7000-8000-000000000000")
        )


async def test_non_admins_are_denied_every_admin_use_case(world: World) -> None:
    ada = await world.register("ada@example.com")
    bob = await world.register("bob@example.com")
    with pytest.raises(PermissionDeniedError):
        await world.users.list_users(actor=bob, query=UserQuery())
    with pytest.raises(PermissionDeniedError):
        await world.users.admin_update(actor=bob, user_id=ada.id, roles=frozenset({Role.ADMIN}))
    with pytest.raises(PermissionDeniedError):
        await world.users.admin_update(actor=bob, user_id=bob.id, roles=frozenset({Role.ADMIN}))
    with pytest.raises(PermissionDeniedError):
        await world.users.admin_delete(actor=bob, user_id=ada.id)
    assert await world.repository.get(ada.id) == ada
    assert await world.repository.get(bob.id) == bob


async def test_a_deactivated_admin_is_denied_admin_use_cases(world: World) -> None:
    root = await world.register("root@example.com", admin=True)
    other = await world.register("other@example.com", admin=True)
    stale_other = await world.users.admin_update(actor=root, user_id=other.id, is_active=False)
    with pytest.raises(PermissionDeniedError):
        await world.users.list_users(actor=stale_other, query=UserQuery())


async def test_admins_list_users(world: World) -> None:
    admin = await world.register("root@example.com", admin=True)
    ada = await world.register("ada@example.com")
    page = await world.users.list_users(actor=admin, query=UserQuery(role=Role.USER))
    assert [user.id for user in page.items] == [admin.id, ada.id]


async def test_changing_email_resets_verification(world: World) -> None:
    admin = await world.register("root@example.com", admin=True)
    ada = await world.register("ada@example.com")
    ada = await world.users.admin_update(actor=admin, user_id=ada.id, is_verified=True)
    moved = await world.users.change_email(
        actor=ada, email="Ada@New.Example", current_password=PASSWORD
    )
    assert (moved.email.value, moved.is_verified, moved.version) == ("ada@new.example", False, 3)


async def test_email_and_deletion_need_the_current_password_checked_first(world: World) -> None:
    first = await world.register("first@example.com")
    ada = await world.register("ada@example.com")
    hashes, verifications = world.hasher.hash_calls, world.hasher.verify_calls
    with pytest.raises(InvalidCredentialsError):  # not EmailTakenError: no oracle
        await world.users.change_email(
            actor=ada, email="first@example.com", current_password="a wrong guess"
        )
    with pytest.raises(InvalidCredentialsError):
        await world.users.delete_self(actor=ada, current_password="a wrong guess")
    with pytest.raises(InvalidCredentialsError):  # judged and hashed only after the check
        await world.users.change_password(
            actor=ada, current_password="a wrong guess", new_password="short"
        )
    assert world.hasher.hash_calls == hashes  # nothing new was hashed
    assert world.hasher.verify_calls == verifications + 3  # one verification each
    assert await world.repository.get(ada.id) == ada
    await world.users.delete_self(actor=ada, current_password=PASSWORD)
    assert await world.repository.get(ada.id) is None
    assert await world.repository.get(first.id) == first


async def test_an_unchanged_profile_writes_nothing(world: World) -> None:
    ada = await world.register("ada@example.com", name="Ada")
    assert await world.users.update_profile(actor=ada, name="Ada") == ada
    same = await world.users.change_email(
        actor=ada, email="ADA@example.com", current_password=PASSWORD
    )
    assert same == ada


async def test_update_with_a_stale_expected_version_conflicts(world: World) -> None:
    ada = await world.register("ada@example.com")
    await world.users.update_profile(actor=ada, name="first")
    with pytest.raises(VersionConflictError):
        await world.users.update_profile(actor=ada, name="second", expected_version=1)
    stored = await world.repository.get(ada.id)
    assert stored is not None
    assert (stored.name, stored.version) == ("first", 2)


async def test_update_without_expected_version_reapplies_over_a_concurrent_change(
    world: World,
) -> None:
    ada = await world.register("ada@example.com")
    admin = await world.register("root@example.com", admin=True)
    await world.users.admin_update(actor=admin, user_id=ada.id, is_verified=True)
    renamed = await world.users.update_profile(actor=ada, name="Ada L.")  # ada is stale here
    assert (renamed.name, renamed.is_verified, renamed.version) == ("Ada L.", True, 3)


async def test_concurrent_profile_updates_are_all_applied(world: World) -> None:
    ada = await world.register("ada@example.com")
    admin = await world.register("root@example.com", admin=True)
    await asyncio.gather(
        world.users.update_profile(actor=ada, name="Ada"),
        world.users.admin_update(actor=admin, user_id=ada.id, is_verified=True),
        world.users.admin_update(actor=admin, user_id=ada.id, roles=frozenset({Role("editor")})),
    )
    stored = await world.repository.get(ada.id)
    assert stored is not None
    assert (stored.name, stored.is_verified, stored.roles, stored.version) == (
        "Ada",
        True,
        frozenset({Role("editor")}),
        4,
    )


async def test_change_password_requires_the_current_one(world: World) -> None:
    ada = await world.register("ada@example.com")
    with pytest.raises(InvalidCredentialsError):
        await world.users.change_password(
            actor=ada, current_password="not the password", new_password="a brand new passphrase"
        )
    assert await world.repository.get(ada.id) == ada


async def test_change_password_applies_the_policy(world: World) -> None:
    ada = await world.register("ada@example.com")
    with pytest.raises(WeakPasswordError):
        await world.users.change_password(
            actor=ada, current_password=PASSWORD, new_password="short"
        )


async def test_change_password_ends_every_session(world: World) -> None:
    ada = await world.register("ada@example.com")
    world.clock.advance(60)
    changed = await world.users.change_password(
        actor=ada, current_password=PASSWORD, new_password="a brand new passphrase"
    )
    assert changed.credential_epoch == ada.credential_epoch + 1
    assert not changed.accepts_credentials_of(ada.credential_epoch)
    await world.auth.authenticate(email="ada@example.com", password="a brand new passphrase")
    with pytest.raises(InvalidCredentialsError):
        await world.auth.authenticate(email="ada@example.com", password=PASSWORD)


async def test_change_password_fails_if_the_password_changed_meanwhile(world: World) -> None:
    ada = await world.register("ada@example.com")
    await world.users.change_password(
        actor=ada, current_password=PASSWORD, new_password="first new passphrase"
    )
    with pytest.raises(InvalidCredentialsError):  # ada still holds the old hash
        await world.users.change_password(
            actor=ada, current_password=PASSWORD, new_password="second new passphrase"
        )


async def test_deactivation_voids_tokens_for_good(world: World) -> None:
    admin = await world.register("root@example.com", admin=True)
    ada = await world.register("ada@example.com")
    world.clock.advance(10)
    off = await world.users.admin_update(actor=admin, user_id=ada.id, is_active=False)
    world.clock.advance(10)
    on = await world.users.admin_update(actor=admin, user_id=ada.id, is_active=True)
    assert off.credential_epoch == on.credential_epoch == ada.credential_epoch + 1
    assert not off.accepts_credentials_of(off.credential_epoch)  # inactive: nothing acts
    assert not on.accepts_credentials_of(ada.credential_epoch)
    assert on.accepts_credentials_of(on.credential_epoch)


async def test_delete_self_erases_the_user_and_their_sessions(world: World) -> None:
    from usercore.testing import RecordFactory

    ada = await world.register("ada@example.com")
    session = RecordFactory().session(ada)
    await world.sessions.add(session)
    await world.users.delete_self(actor=ada, current_password=PASSWORD)
    assert await world.repository.get(ada.id) is None
    assert await world.sessions.get(session.id) is None


async def test_admin_delete_of_a_missing_user_is_not_found(world: World) -> None:
    admin = await world.register("root@example.com", admin=True)
    ada = await world.register("ada@example.com")
    await world.users.admin_delete(actor=admin, user_id=ada.id)
    with pytest.raises(UserNotFoundError):
        await world.users.admin_delete(actor=admin, user_id=ada.id)
