"""The ``usercore`` console script: serve, migrate, users, keys, sessions, events."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

import usercore
from usercore.config import Settings, SettingsError, unknown_env_vars
from usercore.container import migrate_storage
from usercore.domain.errors import UserCoreError
from usercore.entrypoints.cli.accounts import (
    create_user,
    purge_sessions,
    read_password,
    rotate_keys,
)
from usercore.entrypoints.cli.events import describe, failed_events, retry_events
from usercore.entrypoints.cli.operators import (
    OPERATOR_COMMANDS,
    add_operator_commands,
    run_operator_command,
)
from usercore.entrypoints.cli.serve import serve
from usercore.entrypoints.cli.transfer import add_transfer_commands, export_users, import_users

#: Exit statuses: a setting is unusable (like a usage error), or a command failed.
EXIT_BAD_SETTING = 2
EXIT_FAILED = 1


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        dest="database_url",
        help="storage URL (env USERCORE_DATABASE_URL; default: the embedded SQLite file)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``usercore`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="usercore",
        description="User management core: registration, login, tokens, profiles and roles. "
        "Every setting is also an env var USERCORE_<NAME>; flags win over the environment.",
    )
    parser.add_argument("--version", action="version", version=f"usercore {usercore.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("serve", help="run the HTTP server")
    run.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="TCP port (default 8000)")
    run.add_argument("--workers", type=int, help="worker processes (default 1)")
    _database_flag(run)
    run.add_argument("--tls-cert-file", dest="tls_cert_file", help="PEM certificate for HTTPS")
    run.add_argument("--tls-key-file", dest="tls_key_file", help="PEM private key for HTTPS")
    run.add_argument("--log-format", dest="log_format", choices=("json", "console"))
    run.add_argument("--log-level", dest="log_level", help="e.g. INFO, WARNING")

    migrate = commands.add_parser("migrate", help="bring the storage schema up to date")
    _database_flag(migrate)

    users = commands.add_parser("users", help="manage user accounts").add_subparsers(
        dest="users_command", metavar="COMMAND", required=True
    )
    create = users.add_parser("create", help="create a user (the password is never an argument)")
    create.add_argument("--email", required=True)
    create.add_argument("--name", default="")
    create.add_argument("--admin", action="store_true", help="also give the role admin")
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (one trailing newline is stripped); "
        "without it, the password is prompted for",
    )
    _database_flag(create)
    add_transfer_commands(users, _database_flag)
    add_operator_commands(users, _database_flag)

    keys = commands.add_parser("keys", help="manage token signing keys").add_subparsers(
        dest="keys_command", metavar="COMMAND", required=True
    )
    keys.add_parser("rotate", help="add a signing key; servers use it after a restart")

    sessions = commands.add_parser("sessions", help="manage login sessions").add_subparsers(
        dest="sessions_command", metavar="COMMAND", required=True
    )
    purge = sessions.add_parser(
        "purge", help="delete revoked and expired sessions (the server does it hourly too)"
    )
    _database_flag(purge)

    events = commands.add_parser("events", help="event delivery").add_subparsers(
        dest="events_command", metavar="COMMAND", required=True
    )
    failed = events.add_parser("failed", help="list the events delivery gave up on (parked)")
    failed.add_argument("--subscriber", help="only this subscriber's (e.g. webhook:https://...)")
    _database_flag(failed)
    retry = events.add_parser("retry", help="have the servers try parked events again")
    retry.add_argument("--subscriber", help="only this subscriber's")
    retry.add_argument("--event-id", dest="event_id", help="only this event")
    _database_flag(retry)
    return parser


_SETTING_FLAGS = (
    "host",
    "port",
    "workers",
    "database_url",
    "tls_cert_file",
    "tls_key_file",
    "log_format",
    "log_level",
)


def _run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    overrides = {name: getattr(args, name, None) for name in _SETTING_FLAGS}
    settings = Settings.load(overrides)
    for warning in unknown_env_vars():
        print(warning, file=sys.stderr)
    if args.command == "serve":
        return serve(settings, overrides)
    if args.command == "migrate":
        asyncio.run(
            migrate_storage(
                settings.database_url,
                settings.db_pool_size,
                settings.db_timeout_seconds,
                data_dir=settings.data_dir,
                migrate_timeout_seconds=settings.migrate_timeout_seconds,
                progress=_progress,
            )
        )
        print("usercore: the storage schema is up to date")
        return 0
    if args.command == "users" and args.users_command == "export":
        asyncio.run(export_users(settings, output=args.output))
        return 0
    if args.command == "users" and args.users_command == "import":
        summary = asyncio.run(import_users(settings, args))
        return EXIT_FAILED if summary.refused else 0
    if args.command == "users" and args.users_command in OPERATOR_COMMANDS:
        asyncio.run(run_operator_command(settings, args))
        return 0
    if args.command == "users":
        password = read_password(from_stdin=args.password_stdin)
        user = asyncio.run(
            create_user(
                settings, email=args.email, name=args.name, admin=args.admin, password=password
            )
        )
        print(f"{user.id.value} {user.email.value}")
        return 0
    if args.command == "keys":
        print(rotate_keys(settings))
        return 0
    if args.command == "sessions":
        sessions, records = asyncio.run(purge_sessions(settings))
        print(
            f"usercore: purged {sessions} revoked or expired sessions "
            f"and {records} stale login-throttle records"
        )
        return 0
    if args.command == "events":
        return _events(args, settings)
    parser.print_help()
    return 0


def _progress(line: str) -> None:
    # Flushed: an index build can take minutes, and the line says which.
    print(f"usercore: {line}", flush=True)


def _events(args: argparse.Namespace, settings: Settings) -> int:
    if args.events_command == "failed":
        parked = asyncio.run(failed_events(settings, subscriber=args.subscriber))
        for entry in parked:
            print(describe(entry))
        print(f"usercore: {len(parked)} parked events", file=sys.stderr)
        return 0
    marked = asyncio.run(retry_events(settings, subscriber=args.subscriber, event_id=args.event_id))
    print(f"usercore: {marked} parked events will be tried again")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    Failures are one plain line on stderr, never a traceback: exit status 2
    for an unusable setting, 1 for a command that failed.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args, parser)
    except SettingsError as exc:
        print(f"usercore: {exc}", file=sys.stderr)
        return EXIT_BAD_SETTING
    except UserCoreError as exc:
        print(f"usercore: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
