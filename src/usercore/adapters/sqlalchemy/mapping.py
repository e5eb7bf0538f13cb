"""Explicit mapping between domain objects and the adapter's rows, per SQL dialect."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from usercore.domain.email import Email
from usercore.domain.events import EVENT_TYPES, DomainEvent, event_facts
from usercore.domain.ids import UserId
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.sessions import Session
from usercore.domain.user import User

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class Codec:
    """Column values for PostgreSQL: native timestamps and a text array of roles."""

    def time_in(self, moment: datetime) -> Any:
        """A domain timestamp as the column stores it."""
        return moment

    def time_out(self, value: Any) -> datetime:
        """A stored timestamp as an aware UTC datetime."""
        return value  # type: ignore[no-any-return]

    def roles_in(self, roles: frozenset[Role]) -> Any:
        """A role set as the column stores it (sorted, so equal sets store equal)."""
        return sorted(role.name for role in roles)

    def roles_out(self, value: Any) -> frozenset[Role]:
        """The stored roles as a set."""
        return _role_set(tuple(value))

    def user_to_row(self, user: User) -> dict[str, Any]:
        """Every column of ``user``."""
        return {
            "id": user.id.value,
            "email": user.email.value,
            "name": user.name,
            "roles": self.roles_in(user.roles),
            "is_active": user.is_active,
            "is_verified": user.is_verified,
            "password_hash": user.password_hash.value,
            "created_at": self.time_in(user.created_at),
            "updated_at": self.time_in(user.updated_at),
            "version": user.version,
            "credential_epoch": user.credential_epoch,
        }

    def user_to_domain(self, row: Any) -> User:
        """The user stored in ``row``: all columns of the users table, in order.

        Rows are unpacked by position, which SQLAlchemy's ``Row`` and asyncpg's
        ``Record`` both support (and is the cheapest access on either).
        """
        (
            id_,
            email,
            name,
            roles,
            is_active,
            is_verified,
            password_hash,
            created_at,
            updated_at,
            version,
            credential_epoch,
        ) = row
        time_out = self.time_out
        return User(
            id=UserId(id_),
            email=Email(email),
            name=name,
            roles=self.roles_out(roles),
            is_active=is_active,
            is_verified=is_verified,
            password_hash=PasswordHash(password_hash),
            created_at=time_out(created_at),
            updated_at=time_out(updated_at),
            version=version,
            credential_epoch=credential_epoch,
        )

    def session_to_row(self, session: Session) -> dict[str, Any]:
        """Every column of ``session``."""
        revoked_at = session.revoked_at
        return {
            "id": session.id,
            "user_id": session.user_id.value,
            "token_hash": session.token_hash,
            "previous_hashes": json.dumps(session.previous_hashes),
            "generation": session.generation,
            "created_at": self.time_in(session.created_at),
            "last_used_at": self.time_in(session.last_used_at),
            "expires_at": self.time_in(session.expires_at),
            "revoked_at": None if revoked_at is None else self.time_in(revoked_at),
            "epoch": session.epoch,
            "user_agent": session.user_agent,
        }

    def session_to_domain(self, row: Any) -> Session:
        """The session stored in ``row``: all columns of the sessions table, in order."""
        (
            id_,
            user_id,
            token_hash,
            previous_hashes,
            generation,
            created_at,
            last_used_at,
            expires_at,
            revoked_at,
            epoch,
            user_agent,
        ) = row
        time_out = self.time_out
        return Session(
            id=id_,
            user_id=UserId(user_id),
            token_hash=token_hash,
            previous_hashes=json.loads(previous_hashes),
            generation=generation,
            created_at=time_out(created_at),
            last_used_at=time_out(last_used_at),
            expires_at=time_out(expires_at),
            revoked_at=None if revoked_at is None else time_out(revoked_at),
            epoch=epoch,
            user_agent=user_agent,
        )

    def event_to_row(self, event: DomainEvent) -> dict[str, Any]:
        """The outbox columns of ``event`` (all but ``position``); its own facts as JSON."""
        return {
            "id": event.id,
            "type": event.type,
            "schema_version": event.schema_version,
            "user_id": event.user_id.value,
            "actor_id": None if event.actor_id is None else event.actor_id.value,
            "occurred_at": self.time_in(event.occurred_at),
            "data": json.dumps(event_facts(event), ensure_ascii=False, sort_keys=True),
        }

    def event_to_domain(self, row: Any) -> DomainEvent:
        """The event in ``row``: id, type, schema_version, user_id, actor_id, occurred_at, data."""
        id_, type_, _schema_version, user_id, actor_id, occurred_at, data = row
        return EVENT_TYPES[type_](
            id=id_,
            user_id=UserId(user_id),
            actor_id=None if actor_id is None else UserId(actor_id),
            occurred_at=self.time_out(occurred_at),
            **json.loads(data),
        )


class SqliteCodec(Codec):
    """Column values for SQLite: integer milliseconds and ``|a|b|`` role text."""

    def time_in(self, moment: datetime) -> Any:  # noqa: D102
        # Domain timestamps are whole milliseconds, so this division is exact.
        return (moment - _EPOCH) // _MILLISECOND

    def time_out(self, value: Any) -> datetime:  # noqa: D102
        return _EPOCH + value * _MILLISECOND  # type: ignore[no-any-return]

    def roles_in(self, roles: frozenset[Role]) -> Any:  # noqa: D102
        return role_marker_list(sorted(role.name for role in roles))

    def roles_out(self, value: Any) -> frozenset[Role]:  # noqa: D102
        return _role_set_from_markers(value)


# Few distinct role sets exist; building (and validating) Role objects for
# every row of every page would be most of the cost of mapping a user.
@functools.lru_cache(maxsize=1024)
def _role_set(names: tuple[str, ...]) -> frozenset[Role]:
    return frozenset(Role(name) for name in names)


@functools.lru_cache(maxsize=1024)
def _role_set_from_markers(markers: str) -> frozenset[Role]:
    return frozenset(Role(name) for name in markers.split("|") if name)


def role_marker_list(names: list[str]) -> str:
    """Role names as SQLite stores them: ``|a|b|``, so ``instr(roles, '|a|')`` finds one.

    Role names can't contain ``|``, so a marker never matches across names.
    """
    return "|" + "|".join(names) + "|" if names else ""


def codec_for(dialect_name: str) -> Codec:
    """The codec of a SQLAlchemy dialect."""
    return SqliteCodec() if dialect_name == "sqlite" else Codec()
