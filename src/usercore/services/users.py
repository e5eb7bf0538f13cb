"""Account use cases: register, read, list, update, change password, delete."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any

import attrs

from usercore.domain.email import Email
from usercore.domain.errors import InvalidCredentialsError, UserNotFoundError, ValidationError
from usercore.domain.events import PasswordChanged, UserDeleted
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.names import parse_name
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services import security
from usercore.services._writes import apply_change
from usercore.services.announce import Announcer
from usercore.services.arguments import (
    actor_of,
    optional_flag_of,
    optional_text_of,
    query_of,
    roles_of,
    text_of,
    user_id_of,
    version_of,
)
from usercore.services.passwords import (
    PasswordRules,
    check_new_password,
    check_password_length,
    verify_password,
)
from usercore.services.policy import require_admin, require_self_or_admin
from usercore.services.security import SecurityEvent
from usercore.services.throttle import LoginThrottle, claim_attempt
from usercore.services.transfer import (
    DEFAULT_BATCH_SIZE,
    Importer,
    ImportOutcome,
    OnConflict,
    SourceRecord,
    export_records,
)
from usercore.services.user_admin import AdminUseCases
from usercore.services.user_events import registered, single, updates


@attrs.frozen
class VerifiedPassword:
    """A password hash the caller just proved to know."""

    password_hash: PasswordHash

    def still_holds(self, user: User) -> User:
        """``user`` unchanged if the proven password is still its password.

        Raises:
            InvalidCredentialsError: The password changed since it was checked.
        """
        if user.password_hash != self.password_hash:
            raise InvalidCredentialsError
        return user


class UserService(AdminUseCases):
    """The account use cases, with the same authorization rules as the HTTP API.

    Methods that act for someone take ``actor``: the stored user on whose
    behalf the call is made (load it fresh per request). Every change to a
    user is one compare-and-set write of that user's record, with the events
    that announce it (``usercore.domain.events``) written in the same
    transaction.
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        policy: PasswordRules,
        clock: Clock,
        ids: IdFactory,
        throttle: LoginThrottle | None,
        announcer: Announcer | None = None,
    ) -> None:
        self._users = users
        self._announcer = announcer if announcer is not None else Announcer(clock=clock, ids=ids)
        self._hasher = hasher
        self._policy = policy
        self._clock = clock
        self._ids = ids
        self._throttle = throttle

    async def register(self, *, email: str, password: str, name: str = "") -> User:
        """Create an account with the role ``user``: active, unverified, version 1.

        Raises:
            ValidationError: A malformed email or name.
            WeakPasswordError: The password policy refused the password.
            EmailTakenError: The (normalised) email has an account already.
        """
        return await self.create_user(email=email, password=password, name=name)

    async def create_user(
        self,
        *,
        email: str,
        password: str,
        name: str = "",
        roles: Iterable[Role | str] = frozenset({Role.USER}),
        is_verified: bool = False,
    ) -> User:
        """Create an account with chosen roles: an operator's action, never reachable over HTTP.

        Used by ``usercore users create --admin`` and by application code.

        Raises:
            ValidationError: A malformed email or name.
            WeakPasswordError: The password policy refused the password.
            EmailTakenError: The (normalised) email has an account already.
        """
        parsed_email = Email.parse(text_of(email, "email"))
        parsed_name = parse_name(text_of(name, "name"))
        parsed_roles = roles_of(roles)
        verified = optional_flag_of(is_verified, "is_verified")
        password_hash = await check_new_password(
            self._policy,
            self._hasher,
            text_of(password, "password"),
            email=parsed_email,
            name=parsed_name,
        )
        user = User.create(
            id=UserId(self._ids.new_id()),
            email=parsed_email,
            name=parsed_name,
            password_hash=password_hash,
            roles=parsed_roles,
            now=self._clock.now(),
        )
        if verified:
            user = user.with_admin_changes(now=user.created_at, is_verified=True)
        events = [registered(self._announcer, user)]
        await self._users.add(user, events=events)
        self._announcer.written(events)
        return user

    def export_users(self) -> AsyncIterator[dict[str, Any]]:
        """Every stored user as a record of the export format, in id order, page by page.

        Records are JSON-ready dicts (the fields of ``usercore users export``,
        the password hash included): an operator's action, never reachable
        over HTTP. Memory stays flat however many users there are.
        """
        return export_records(self._users)

    def import_users(
        self,
        records: Iterable[SourceRecord | Mapping[str, Any]] | AsyncIterable[Any],
        *,
        on_conflict: OnConflict | str = OnConflict.SKIP,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> AsyncIterator[ImportOutcome]:
        """Import records of the export format (or from ``read_records``); one outcome each.

        Each record is validated whole (email, name, roles, timestamps, the
        password hash's format and cost) before anything is written; users
        are written ``batch_size`` at a time. A record already stored exactly
        so is ``unchanged``, so running an import again after an interruption
        finishes it without duplicates. A record whose id or email is stored
        with other values is skipped, replaces the stored user, or stops the
        import (``on_conflict``); two records of one import with one
        normalised email are never merged: the later one is refused.
        """
        try:
            conflict = OnConflict(on_conflict)
        except ValueError:
            choices = ", ".join(option.value for option in OnConflict)
            raise ValidationError("on_conflict", f"must be one of {choices}") from None
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size", "must be a whole number of at least 1")
        importer = Importer(
            users=self._users,
            hasher=self._hasher,
            clock=self._clock,
            ids=self._ids,
            on_conflict=conflict,
            batch_size=batch_size,
        )
        return importer.run(records)

    async def find(self, user_id: UserId | str) -> User | None:
        """The stored user with this id, for an entrypoint to load its actor.

        Performs no authorization: use :meth:`get_user` on behalf of a user.
        """
        return await self._users.get(user_id_of(user_id))

    async def get_user(self, *, actor: User, user_id: UserId | str) -> User:
        """Read a user: oneself, or anyone for an administrator.

        Raises:
            UserNotFoundError: No such user, or it is another user's record
                and ``actor`` is not an administrator.
        """
        actor, user_id = actor_of(actor), user_id_of(user_id)
        require_self_or_admin(actor, user_id)
        if actor.id == user_id:
            return actor
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFoundError(user_id.value)
        return user

    async def list_users(self, *, actor: User, query: UserQuery | None = None) -> Page[User]:
        """One page of users, in id order (administrators only); the first page by default.

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
        """
        require_admin(actor_of(actor), "list_users")
        return await self._users.list(query_of(query))

    async def update_profile(
        self,
        *,
        actor: User,
        name: str | None = None,
        expected_version: int | None = None,
    ) -> User:
        """Change one's own profile (the name); the email changes with :meth:`change_email`.

        Raises:
            ValidationError: A malformed name.
            VersionConflictError: ``expected_version`` is not the stored version.
        """
        actor = actor_of(actor)
        text = optional_text_of(name, "name")
        parsed_name = None if text is None else parse_name(text)
        version = version_of(expected_version)
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            actor.id,
            lambda user: user.with_profile(now=now, name=parsed_name),
            expected_version=version,
            known=actor,
            announce=updates(self._announcer),
        )
        self._announcer.written(events)
        return changed

    async def change_email(self, *, actor: User, email: str, current_password: str) -> User:
        """Move one's login email, proven by the current password; the new email is unverified.

        The password is checked first, so a stolen access token alone can't
        move the account, and nobody learns whether an address is taken
        without knowing the password.

        Raises:
            InvalidCredentialsError: ``current_password`` is wrong.
            ValidationError: A malformed email.
            EmailTakenError: Another account has the new email.
        """
        actor = actor_of(actor)
        parsed_email = Email.parse(text_of(email, "email"))
        verified = await self._reauthenticate(actor, current_password)
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            actor.id,
            lambda user: verified.still_holds(user).with_profile(now=now, email=parsed_email),
            known=actor,
            announce=updates(self._announcer),
        )
        self._announcer.written(events)
        return changed

    async def change_password(
        self, *, actor: User, current_password: str, new_password: str
    ) -> User:
        """Replace one's password; every existing session and token of the user ends.

        The current password is checked before the new one is judged or
        hashed: a guess costs one hash, and a wrong one says only that.

        Raises:
            InvalidCredentialsError: ``current_password`` is wrong.
            WeakPasswordError: The policy refused the new password.
        """
        actor = actor_of(actor)
        new_password = text_of(new_password, "new_password")
        verified = await self._reauthenticate(actor, current_password)
        new_hash = await check_new_password(
            self._policy, self._hasher, new_password, email=actor.email, name=actor.name
        )
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            actor.id,
            lambda user: verified.still_holds(user).with_password(new_hash, now=now),
            known=actor,
            announce=single(self._announcer, PasswordChanged),
        )
        self._announcer.written(events)
        return changed

    async def delete_self(self, *, actor: User, current_password: str) -> None:
        """Erase one's own account and every session of it, proven by the current password.

        Raises:
            InvalidCredentialsError: ``current_password`` is wrong.
        """
        actor = actor_of(actor)
        await self._reauthenticate(actor, current_password)
        events = [self._announcer.make(UserDeleted, user_id=actor.id)]
        if await self._users.delete(actor.id, events=events):
            self._announcer.written(events)

    async def _reauthenticate(self, actor: User, current_password: str) -> VerifiedPassword:
        # The login throttle's counter guards this check too: a stolen access
        # token is no way around it.
        current_password = text_of(current_password, "current_password")
        check_password_length(current_password, field="current_password")
        await claim_attempt(
            self._throttle, actor.email, user_id=actor.id, announcer=self._announcer
        )
        if not await verify_password(self._hasher, actor.password_hash, current_password):
            security.record(SecurityEvent.REAUTHENTICATION_FAILED, user_id=actor.id)
            raise InvalidCredentialsError
        if self._throttle is not None:
            await self._throttle.clear(email=actor.email)
        return VerifiedPassword(actor.password_hash)

    async def find_by_email(self, email: str) -> User | None:
        """The stored user with this email (any spelling), for operator tools.

        Performs no authorization.

        Raises:
            ValidationError: A malformed email.
        """
        return await self._users.get_by_email(Email.parse(text_of(email, "email")))
