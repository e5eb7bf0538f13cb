"""Account use cases: register, read, list, update, change password, delete."""

from __future__ import annotations

from usercore.domain.email import Email
from usercore.domain.errors import InvalidCredentialsError, UserNotFoundError
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.names import parse_name
from usercore.domain.roles import Role
from usercore.domain.user import User
from usercore.ports.clock import Clock, IdFactory
from usercore.ports.hashing import PasswordHasher
from usercore.ports.users import UserRepository
from usercore.services._writes import apply_change
from usercore.services.passwords import PasswordRules, check_new_password, verify_password
from usercore.services.policy import require_admin, require_self_or_admin


class UserService:
    """The account use cases, with the same authorization rules as the HTTP API.

    Methods that act for someone take ``actor``: the stored user on whose
    behalf the call is made (load it fresh per request). Every change to a
    user is one compare-and-set write of that user's record.
    """

    def __init__(
        self,
        *,
        users: UserRepository,
        hasher: PasswordHasher,
        policy: PasswordRules,
        clock: Clock,
        ids: IdFactory,
    ) -> None:
        self._users = users
        self._hasher = hasher
        self._policy = policy
        self._clock = clock
        self._ids = ids

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
        await self._users.add(user)
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
        email: str | None = None,
        expected_version: int | None = None,
    ) -> User:
        """Change one's own name or email; a new email is unverified.

        Raises:
            ValidationError: A malformed email or name.
            EmailTakenError: Another account has the new email.
            VersionConflictError: ``expected_version`` is not the stored version.
        """
        parsed_name = None if name is None else parse_name(name)
        parsed_email = None if email is None else Email.parse(email)
        now = self._clock.now()
        return await apply_change(
            self._users,
            actor.id,
            lambda user: user.with_profile(now=now, name=parsed_name, email=parsed_email),
            expected_version=expected_version,
            known=actor,
        )

    async def change_password(
        self, *, actor: User, current_password: str, new_password: str
    ) -> User:
        """Replace one's password; every existing session and token of the user ends.

        Raises:
            WeakPasswordError: The policy refused the new password.
            InvalidCredentialsError: ``current_password`` is wrong.
        """
        new_hash = await check_new_password(
            self._policy, self._hasher, new_password, email=actor.email, name=actor.name
        )
        if not await verify_password(self._hasher, actor.password_hash, current_password):
            raise InvalidCredentialsError
        verified_hash = actor.password_hash
        now = self._clock.now()

        def change(user: User) -> User:
            # The password checked above must still be the stored one.
            if user.password_hash != verified_hash:
                raise InvalidCredentialsError
            return user.with_password(new_hash, now=now)

        return await apply_change(self._users, actor.id, change, known=actor)

    async def revoke_sessions(self, *, actor: User) -> User:
        """Log out everywhere: void every session and token of ``actor`` issued until now."""
        now = self._clock.now()
        return await apply_change(
            self._users, actor.id, lambda user: user.with_sessions_revoked(now=now), known=actor
        )

    async def delete_self(self, *, actor: User) -> None:
        """Erase one's own account and every session of it."""
        await self._users.delete(actor.id)

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
        return await apply_change(
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
        )

    async def admin_delete(self, *, actor: User, user_id: UserId) -> None:
        """Delete a user and their sessions (administrators only).

        Raises:
            PermissionDeniedError: ``actor`` is not an administrator.
            UserNotFoundError: No such user.
        """
        require_admin(actor, "delete_users")
        if not await self._users.delete(user_id):
            raise UserNotFoundError(user_id.value)
