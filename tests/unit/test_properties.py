"""Properties of the domain and use cases that must hold for every input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.conftest import make_world
from usercore.domain import (
    PasswordPolicy,
    UserCoreError,
    VersionConflictError,
)
from usercore.testing.strategies import emails, names, passwords

POLICY = PasswordPolicy()


@given(email=emails(), password=passwords(POLICY), wrong=passwords(POLICY), name=names())
async def test_no_repr_str_or_error_message_shows_the_password_or_its_hash(
    email: str, password: str, wrong: str, name: str
) -> None:
    world = make_world()
    shown: list[str] = []
    try:
        user = await world.users.register(email=email, password=password, name=name)
    except UserCoreError as exc:
        shown += [str(exc), repr(exc)]
        assert password not in "".join(shown)
        return
    shown += [repr(user), str(user), repr(user.password_hash), str(user.password_hash)]
    for attempt in (
        world.auth.authenticate(email=email, password=wrong),
        world.users.register(email=email, password=password),
        world.users.change_password(actor=user, current_password=wrong, new_password=password),
        world.users.change_password(actor=user, current_password=password, new_password="short"),
    ):
        try:
            await attempt
        except UserCoreError as exc:
            shown += [str(exc), repr(exc), repr(exc.args)]
    text = "\n".join(shown)
    assert user.password_hash.value not in text
    # The email and name are shown on purpose; a drawn password may equal them.
    hidden = text.replace(user.email.value, "").replace(user.name, "")
    assert password not in hidden
    if wrong != password:
        assert wrong not in hidden


CHANGES = st.lists(
    st.sampled_from(["rename", "same-name", "verify", "deactivate", "stale"]), max_size=12
)


@given(changes=CHANGES, names_=st.lists(names(max_size=10), min_size=12, max_size=12))
async def test_version_grows_by_one_per_change_and_a_stale_version_changes_nothing(
    changes: list[str], names_: list[str]
) -> None:
    world = make_world()
    admin = await world.register("root@example.com", admin=True)
    user = await world.register("ada@example.com")
    for step, name in zip(changes, names_, strict=False):
        before = await world.repository.get(user.id)
        assert before is not None
        if step == "stale":
            with pytest.raises(VersionConflictError):
                await world.users.update_profile(
                    actor=before, name=name + "!", expected_version=before.version - 1
                )
            assert await world.repository.get(user.id) == before
            continue
        if step == "rename":
            after = await world.users.update_profile(actor=before, name=name)
            changed = after.name != before.name
        elif step == "same-name":
            after = await world.users.update_profile(actor=before, name=before.name)
            changed = False
        elif step == "verify":
            after = await world.users.admin_update(actor=admin, user_id=user.id, is_verified=True)
            changed = not before.is_verified
        else:
            after = await world.users.admin_update(
                actor=admin, user_id=user.id, is_active=not before.is_active
            )
            changed = True
        assert after.version == before.version + (1 if changed else 0)
        assert await world.repository.get(user.id) == after
