"""Operator commands on accounts: list, show, set-password, grant, revoke, (de)activate, delete.

Each goes through the same use case as the HTTP API, acting as the
**operator**: a system actor with the ``admin`` role that exists in no
storage. Its id is the nil UUID, which is what events and security log lines
name as ``actor_id`` for changes made from the command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from usercore.config import Settings
from usercore.container import build_container, resolve
from usercore.domain.email import Email
from usercore.domain.errors import UserNotFoundError, ValidationError
from usercore.domain.ids import UserId
from usercore.domain.listing import UserQuery, decode_cursor
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.entrypoints.cli.accounts import maybe_await, read_password
from usercore.services.transfer.records import user_to_record
from usercore.services.users import UserService

#: The command line's actor: an administrator that is stored nowhere.
OPERATOR_ID = UserId("00000000-0000-0000-0000-000000000000")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def operator() -> User:
    """The system actor the operator commands act as."""
    return User(
        id=OPERATOR_ID,
        email=Email("operator"),
        name="operator",
        roles=frozenset({Role.USER, Role.ADMIN}),
        is_active=True,
        is_verified=True,
        password_hash=PasswordHash("!"),  # no password: it can never log in
        created_at=_EPOCH,
        updated_at=_EPOCH,
        version=1,
        credential_epoch=1,
    )


def add_operator_commands(
    users: Any, database_flag: Callable[[argparse.ArgumentParser], None]
) -> None:
    """Add the operator commands to the ``users`` sub-command parser."""
    listing = users.add_parser("list", help="list users, in id order")
    listing.add_argument("--email-prefix", dest="email_prefix")
    listing.add_argument("--role")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    database_flag(listing)
    show = users.add_parser("show", help="show one user (by id or email)")
    show.add_argument("user", metavar="ID|EMAIL")
    show.add_argument("--json", action="store_true")
    database_flag(show)
    password = users.add_parser(
        "set-password", help="set a user's password; every session of theirs ends"
    )
    password.add_argument("user", metavar="ID|EMAIL")
    password.add_argument(
        "--password-stdin", action="store_true", help="read it from stdin instead of a prompt"
    )
    database_flag(password)
    for name, text in (("grant", "give a user a role"), ("revoke", "take a role from a user")):
        command = users.add_parser(name, help=text)
        command.add_argument("user", metavar="ID|EMAIL")
        command.add_argument("role")
        database_flag(command)
    for name, text in (
        ("activate", "let a user log in again"),
        ("deactivate", "stop a user from logging in; every token of theirs ends for good"),
        ("delete", "delete a user and their sessions"),
    ):
        command = users.add_parser(name, help=text)
        command.add_argument("user", metavar="ID|EMAIL")
        database_flag(command)


OPERATOR_COMMANDS = frozenset(
    {"list", "show", "set-password", "grant", "revoke", "activate", "deactivate", "delete"}
)


async def run_operator_command(settings: Settings, args: argparse.Namespace) -> None:
    """Run one operator command; prints its result on stdout.

    Raises:
        UserCoreError: The use case refused; one line on stderr, by the caller.
    """
    command = args.users_command
    new_password = (
        read_password(from_stdin=args.password_stdin) if command == "set-password" else ""
    )
    async with _user_service(settings) as users:
        if command == "list":
            await _list(users, args)
            return
        target = await _find(users, args.user)
        actor = operator()
        if command == "show":
            _print_user(target, as_json=args.json)
        elif command == "set-password":
            await users.admin_set_password(
                actor=actor, user_id=target.id, new_password=new_password
            )
        elif command in {"grant", "revoke"}:
            role = Role(args.role)
            roles = target.roles | {role} if command == "grant" else target.roles - {role}
            _print_user(await users.admin_update(actor=actor, user_id=target.id, roles=roles))
        elif command in {"activate", "deactivate"}:
            active = command == "activate"
            _print_user(await users.admin_update(actor=actor, user_id=target.id, is_active=active))
        else:
            await users.admin_delete(actor=actor, user_id=target.id)
            print(f"deleted {target.id.value} {target.email.value}")


@asynccontextmanager
async def _user_service(settings: Settings) -> AsyncIterator[UserService]:
    container = build_container(settings)
    await maybe_await(container.init_resources())
    try:
        yield await resolve(container.user_service())
    finally:
        await maybe_await(container.shutdown_resources())


async def _find(users: UserService, reference: str) -> User:
    if "@" in reference:
        found = await users.find_by_email(reference)
    else:
        try:
            found = await users.find(UserId.parse(reference, field="user"))
        except ValidationError:
            raise ValidationError("user", "must be a user id (a UUID) or an email") from None
    if found is None:
        raise UserNotFoundError(reference)
    return found


async def _list(users: UserService, args: argparse.Namespace) -> None:
    role = None if args.role is None else Role(args.role)
    query = UserQuery(limit=100, email_prefix=args.email_prefix, role=role)
    while True:
        page = await users.list_users(actor=operator(), query=query)
        for user in page.items:
            _print_user(user, as_json=args.json)
        if page.next_cursor is None:
            return
        query = UserQuery(
            limit=100,
            after=decode_cursor(page.next_cursor),
            email_prefix=args.email_prefix,
            role=role,
        )


def _print_user(user: User, *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(_user_json(user), separators=(",", ":")))
        return
    roles = ",".join(sorted(role.name for role in user.roles))
    state = "active" if user.is_active else "inactive"
    print(f"{user.id.value} {user.email.value} {roles} {state} v{user.version}")
    sys.stdout.flush()


def _user_json(user: User) -> dict[str, object]:
    # The export format's fields, less the password hash: one shape for one user.
    record = user_to_record(user)
    del record["password_hash"]
    return record
