"""Account use cases: register, read, list, update, change password, delete."""

from __future__ import annotations

import attrs

from usercore.domain.email import Email
from usercore.domain.errors import InvalidCredentialsError, UserNotFoundError
from usercore.domain.events import PasswordChanged, UserDeleted
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.names import parse_name
from usercore.domain.passwords import PasswordHash, PasswordPolicy
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services import security
from usercore.services._writes import apply_change
from usercore.services.announce import Announcer
from usercore.services.passwords import (
    check_new_password,
    check_password_length,
    verify_password,
)
from usercore.services.policy import require_admin, require_self_or_admin
from usercore.services.security import SecurityEvent
from usercore.services.throttle import LoginThrottle, claim_attempt
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


class UserService:
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
        policy: PasswordPolicy,
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
        roles: frozenset[Role] = frozenset({Role.USER}),
        is_verified: bool = False,
    ) -> User:
        """Create an account with chosen roles: an operator's action, never reachable over HTTP.

        Used by ``usercore users create --admin`` and by application code.

        Raises:
            ValidationError: A malformed email or name.
            WeakPasswordError: The password policy refused the password.
            EmailTakenError: The (normalised) email has an account already.
        """
        parsed_email = Email.parse(email)
        parsed_name = parse_name(name)
        password_hash = await check_new_password(
            self._policy, self._hasher, password, email=parsed_email, name=parsed_name
        )
        user = User.create(
            id=UserId(self._ids.new_id()),
            email=parsed_email,
            name=parsed_name,
            password_hash=password_hash,
            roles=roles,
            now=self._clock.now(),
        )
        if is_verified:
            user = user.with_admin_changes(now=user.created_at, is_verified=True)
        events = [registered(self._announcer, user)]
        await self._users.add(user, events=events)
        self._announcer.written(events)
        return user

    async def find(self, user_id: UserId) -> User | None:
        """The stored user with this id, for an entrypoint to load its actor.

        Performs no authorization: use :meth:`get_user` on behalf of a user.
        """
        return await self._users.get(user_id)

    async def get_user(self, *, actor: User, user_id: UserId) -> User:
        """Read a user: oneself, or anyone for an administrator.

        Raises:
            UserNotFoundError: No such user, or it is another user's record
                and ``actor`` is not an administrator.
        """
        require_self_or_admin(actor, user_id)
        if actor.id == user_id:
            return actor
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFoundError(user_id.value)
        return user

    async def list_users(self, *, actor: User, query: UserQuery) -> Page[User]:
        """One page of users, in id order (administrators only).

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
        """
        require_admin(actor, "list_users")
        return await self._users.list(query)

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
        parsed_name = None if name is None else parse_name(name)
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            actor.id,
            lambda user: user.with_profile(now=now, name=parsed_name),
            expected_version=expected_version,
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
        verified = await self._reauthenticate(actor, current_password)
        parsed_email = Email.parse(email)
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
        await self._reauthenticate(actor, current_password)
        events = [self._announcer.make(UserDeleted, user_id=actor.id)]
        if await self._users.delete(actor.id, events=events):
            self._announcer.written(events)

    async def _reauthenticate(self, actor: User, current_password: str) -> VerifiedPassword:
        # The login throttle's counter guards this check too: a stolen access
        # token is no way around it.
        check_password_length(current_password)
        await claim_attempt(
            self._throttle, actor.email, user_id=actor.id, announcer=self._announcer
        )
        if not await verify_password(self._hasher, actor.password_hash, current_password):
            security.record(SecurityEvent.REAUTHENTICATION_FAILED, user_id=actor.id)
            raise InvalidCredentialsError
        if self._throttle is not None:
            await self._throttle.clear(email=actor.email)
        return VerifiedPassword(actor.password_hash)

    async def admin_update(
        self,
        *,
        actor: User,
        user_id: UserId,
        name: str | None = None,
        email: str | None = None,
        roles: frozenset[Role] | None = None,
        is_active: bool | None = None,
        is_verified: bool | None = None,
        expected_version: int | None = None,
    ) -> User:
        """Change any managed field of a user (administrators only).

        Deactivating a user voids every token they hold, for good.

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
            ValidationError: A malformed email or name.
            EmailTakenError: Another account has the new email.
            VersionConflictError: ``expected_version`` is not the stored version.
        """
        require_admin(actor, "update_users")
        parsed_name = None if name is None else parse_name(name)
        parsed_email = None if email is None else Email.parse(email)
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            user_id,
            lambda user: user.with_admin_changes(
                now=now,
                name=parsed_name,
                email=parsed_email,
                roles=roles,
                is_active=is_active,
                is_verified=is_verified,
            ),
            expected_version=expected_version,
            known=actor,
            announce=updates(self._announcer, actor_id=actor.id),
        )
        self._announcer.written(events)
        return changed

    async def admin_delete(self, *, actor: User, user_id: UserId) -> None:
        """Delete a user and their sessions (administrators only).

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
        """
        require_admin(actor, "delete_users")
        events = [self._announcer.make(UserDeleted, user_id=user_id, actor_id=actor.id)]
        if not await self._users.delete(user_id, events=events):
            raise UserNotFoundError(user_id.value)
        self._announcer.written(events)
