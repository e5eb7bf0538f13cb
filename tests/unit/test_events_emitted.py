"""The use cases announce what they did: one typed event per fact, in order, no secrets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

import usercore
from usercore.container import UserCore, resolve
from usercore.domain.errors import InvalidCredentialsError, InvalidTokenError
from usercore.domain.events import (
    AllSessionsRevoked,
    DomainEvent,
    EmailChanged,
    LoggedIn,
    LoginFailed,
    PasswordChanged,
    RefreshTokenReused,
    SessionRevoked,
    UserDeactivated,
    UserDeleted,
    UserRegistered,
    UserUpdated,
)
from usercore.domain.roles import Role
from usercore.ports.events import EventLog

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another horse battery staple"


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[UserCore]:
    async with usercore.connect("memory://", argon2_memory_kib=256, data_dir=tmp_path) as core:
        yield core


async def events_of(core: UserCore) -> list[DomainEvent]:
    log: EventLog = await resolve(core.container.event_log())
    return [n.event for n in await log.read(after=0, limit=1000)]


def secrets_absent(events: list[DomainEvent], *secrets: str) -> None:
    text = repr([attrs.asdict(event) for event in events])
    for secret in secrets:
        assert secret not in text
    assert "$argon2" not in text


async def test_registration_profile_password_and_deletion_are_announced_in_order(
    core: UserCore,
) -> None:
    user = await core.users.register(email="ada@example.com", password=PASSWORD, name="Ada")
    renamed = await core.users.update_profile(actor=user, name="Ada L.")
    moved = await core.users.change_email(
        actor=renamed, email="ada@lovelace.org", current_password=PASSWORD
    )
    changed = await core.users.change_password(
        actor=moved, current_password=PASSWORD, new_password=NEW_PASSWORD
    )
    await core.users.delete_self(actor=changed, current_password=NEW_PASSWORD)
    events = await events_of(core)
    assert [type(e) for e in events] == [
        UserRegistered,
        UserUpdated,
        EmailChanged,
        UserUpdated,
        PasswordChanged,
        UserDeleted,
    ]
    assert all(e.user_id == user.id and e.actor_id is None for e in events)
    registered, renamed_event, email_changed, email_updated = events[:4]
    assert isinstance(registered, UserRegistered)
    assert (registered.email, registered.name, registered.roles) == (
        "ada@example.com",
        "Ada",
        ("user",),
    )
    assert isinstance(renamed_event, UserUpdated)
    assert renamed_event.fields == ("name",)
    assert isinstance(email_changed, EmailChanged)
    assert (email_changed.old_email, email_changed.new_email) == (
        "ada@example.com",
        "ada@lovelace.org",
    )
    assert isinstance(email_updated, UserUpdated)
    assert email_updated.fields == ("email",)
    assert len({e.id for e in events}) == len(events)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    secrets_absent(events, PASSWORD, NEW_PASSWORD)


async def test_a_refused_change_announces_nothing(core: UserCore) -> None:
    user = await core.users.register(email="ada@example.com", password=PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        await core.users.change_password(
            actor=user, current_password="wrong password", new_password=NEW_PASSWORD
        )
    assert [type(e) for e in await events_of(core)] == [UserRegistered]


async def test_admin_changes_name_the_admin_as_actor(core: UserCore) -> None:
    admin = await core.users.create_user(
        email="root@example.com", password=PASSWORD, roles=frozenset({Role.ADMIN})
    )
    user = await core.users.register(email="ada@example.com", password=PASSWORD)
    await core.users.admin_update(actor=admin, user_id=user.id, is_active=False)
    await core.sessions.admin_revoke_all(actor=admin, user_id=user.id)
    await core.users.admin_delete(actor=admin, user_id=user.id)
    events = (await events_of(core))[2:]
    assert [type(e) for e in events] == [
        UserDeactivated,
        UserUpdated,
        AllSessionsRevoked,
        UserDeleted,
    ]
    assert all(e.actor_id == admin.id and e.user_id == user.id for e in events)
    updated = events[1]
    assert isinstance(updated, UserUpdated)
    assert (updated.fields, updated.is_active) == (("is_active",), False)


async def test_logins_failures_logouts_and_reuse_are_announced(core: UserCore) -> None:
    user = await core.users.register(email="ada@example.com", password=PASSWORD)
    tokens = await core.tokens()
    with pytest.raises(InvalidCredentialsError):
        await tokens.password_grant(email="ada@example.com", password="wrong password")
    with pytest.raises(InvalidCredentialsError):
        await tokens.password_grant(email="nobody@example.com", password="wrong password")
    first = await tokens.password_grant(email="ada@example.com", password=PASSWORD)
    second = await tokens.refresh_grant(refresh_token=first.refresh_token)
    with pytest.raises(InvalidTokenError):
        await tokens.refresh_grant(refresh_token=first.refresh_token)
    again = await tokens.password_grant(email="ada@example.com", password=PASSWORD)
    await tokens.revoke(token=again.refresh_token)
    await core.sessions.revoke_all(actor=user)
    events = (await events_of(core))[1:]
    assert [type(e) for e in events] == [
        LoginFailed,
        LoggedIn,
        RefreshTokenReused,
        LoggedIn,
        SessionRevoked,
        AllSessionsRevoked,
    ]
    failed, logged_in, reused, _, revoked, _ = events
    assert isinstance(failed, LoginFailed)
    assert failed.reason == "wrong_password"
    assert isinstance(logged_in, LoggedIn)
    assert isinstance(reused, RefreshTokenReused)
    assert reused.session_id == logged_in.session_id
    assert isinstance(revoked, SessionRevoked)
    assert revoked.reason == "logout"
    secrets_absent(events, PASSWORD, first.refresh_token, second.refresh_token, again.access_token)
