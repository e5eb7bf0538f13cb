"""Administrators' use cases on other users' accounts: change, set a password, delete.

Part of :class:`~usercore.services.users.UserService` (a mixin, so the API
stays ``core.users.admin_update`` and the like); kept apart because these
are the changes one user makes to another.
"""

from __future__ import annotations

from collections.abc import Iterable

from usercore.domain.email import Email
from usercore.domain.errors import UserNotFoundError
from usercore.domain.events import PasswordChanged, UserDeleted
from usercore.domain.ids import UserId
from usercore.domain.names import parse_name
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.ports.clock import Clock
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services._writes import apply_change
from usercore.services.announce import Announcer
from usercore.services.arguments import (
    actor_of,
    optional_flag_of,
    optional_roles_of,
    optional_text_of,
    text_of,
    user_id_of,
    version_of,
)
from usercore.services.passwords import PasswordRules, check_new_password
from usercore.services.policy import require_admin
from usercore.services.throttle import LoginThrottle
from usercore.services.user_events import single, updates


class AdminUseCases:
    """What an administrator may do to any user (mixed into ``UserService``)."""

    _users: UserRepository
    _announcer: Announcer
    _hasher: PasswordHasher
    _policy: PasswordRules
    _clock: Clock
    _throttle: LoginThrottle | None

    async def admin_update(
        self,
        *,
        actor: User,
        user_id: UserId | str,
        name: str | None = None,
        email: str | None = None,
        roles: Iterable[Role | str] | None = None,
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
        actor, user_id = actor_of(actor), user_id_of(user_id)
        require_admin(actor, "update_users")
        name, email = optional_text_of(name, "name"), optional_text_of(email, "email")
        parsed_name = None if name is None else parse_name(name)
        parsed_email = None if email is None else Email.parse(email)
        parsed_roles = optional_roles_of(roles)
        active = optional_flag_of(is_active, "is_active")
        verified = optional_flag_of(is_verified, "is_verified")
        version = version_of(expected_version)
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            user_id,
            lambda user: user.with_admin_changes(
                now=now,
                name=parsed_name,
                email=parsed_email,
                roles=parsed_roles,
                is_active=active,
                is_verified=verified,
            ),
            expected_version=version,
            known=actor,
            announce=updates(self._announcer, actor_id=actor.id),
        )
        self._announcer.written(events)
        return changed

    async def admin_set_password(
        self, *, actor: User, user_id: UserId | str, new_password: str
    ) -> User:
        """Set a user's password as an administrator; every session and token of theirs ends.

        The policy judges the password against that user's email and name.
        Their login throttle is cleared, as a password reset clears it.

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
            WeakPasswordError: The policy refused the password.
        """
        actor, user_id = actor_of(actor), user_id_of(user_id)
        require_admin(actor, "set_passwords")
        target = await self._users.get(user_id)
        if target is None:
            raise UserNotFoundError(user_id.value)
        new_hash = await check_new_password(
            self._policy,
            self._hasher,
            text_of(new_password, "new_password"),
            email=target.email,
            name=target.name,
        )
        now = self._clock.now()
        changed, events = await apply_change(
            self._users,
            user_id,
            lambda user: user.with_password(new_hash, now=now),
            known=target,
            announce=single(self._announcer, PasswordChanged, actor_id=actor.id),
        )
        self._announcer.written(events)
        if self._throttle is not None:
            await self._throttle.clear(email=changed.email)
        return changed

    async def admin_delete(self, *, actor: User, user_id: UserId | str) -> None:
        """Delete a user and their sessions (administrators only).

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
        """
        actor, user_id = actor_of(actor), user_id_of(user_id)
        require_admin(actor, "delete_users")
        events = [self._announcer.make(UserDeleted, user_id=user_id, actor_id=actor.id)]
        if not await self._users.delete(user_id, events=events):
            raise UserNotFoundError(user_id.value)
        self._announcer.written(events)
