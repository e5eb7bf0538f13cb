"""``usercore users create`` and ``usercore keys rotate``: operator actions on storage and keys."""

from __future__ import annotations

import getpass
import inspect
import sys
from typing import TextIO

from usercore.config import Settings
from usercore.container import build_container, resolve, rotate_signing_keys
from usercore.domain.errors import ValidationError
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.services.sessions import SessionService
from usercore.services.throttle import LoginThrottle
from usercore.services.users import UserService


def read_password(*, from_stdin: bool, stdin: TextIO | None = None) -> str:
    """The new user's password: all of stdin minus one trailing newline, or typed twice.

    Never from argv, where other users of the machine could read it.

    Raises:
        ValidationError: The two typed passwords differ, or stdin was empty.
    """
    if from_stdin:
        text = (stdin or sys.stdin).read()
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
    else:
        if not (stdin or sys.stdin).isatty():
            # getpass would read a script's stdin or end in EOFError.
            raise ValidationError(
                "password", "there is no terminal to ask on; pipe it in with --password-stdin"
            )
        try:
            text = getpass.getpass("Password: ")
            if getpass.getpass("Repeat the password: ") != text:
                raise ValidationError("password", "the two passwords differ")
        except EOFError:
            raise ValidationError("password", "stdin closed before a password was typed") from None
    if not text:
        raise ValidationError("password", "is empty")
    return text


async def create_user(
    settings: Settings, *, email: str, name: str, admin: bool, password: str
) -> User:
    """Create an account with the role ``user`` (and ``admin`` when asked).

    Raises:
        ValidationError: A malformed email or name.
        WeakPasswordError: The password policy refused the password.
        EmailTakenError: The email has an account already.
        StorageUnavailableError: Storage does not answer.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        users: UserService = await resolve(container.user_service())
        roles = frozenset({Role.USER, Role.ADMIN} if admin else {Role.USER})
        return await users.create_user(email=email, password=password, name=name, roles=roles)
    finally:
        await maybe_await(container.shutdown_resources())


async def purge_sessions(settings: Settings) -> tuple[int, int]:
    """Delete revoked and expired sessions and stale login-throttle records.

    Returns:
        How many sessions, and how many throttle records, were deleted.

    Raises:
        StorageUnavailableError: Storage does not answer.
    """
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        sessions: SessionService = await resolve(container.session_service())
        throttle: LoginThrottle = await resolve(container.login_throttle())
        return await sessions.purge(), await throttle.purge()
    finally:
        await maybe_await(container.shutdown_resources())


def rotate_keys(settings: Settings) -> str:
    """Add a signing key; running servers pick it up when restarted. Returns its key id."""
    return rotate_signing_keys(settings)


async def maybe_await(result: object) -> None:
    """Await ``result`` if it is awaitable (the container's resource calls may be)."""
    # init_resources/shutdown_resources give an awaitable only when a resource is async.
    if inspect.isawaitable(result):
        await result
