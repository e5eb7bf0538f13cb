"""The User entity: an account, changed only through methods that return a new version."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

from usercore.domain.email import Email
from usercore.domain.ids import UserId
from usercore.domain.passwords import PasswordHash
from usercore.domain.roles import Role
from usercore.domain.timestamps import utc_millis


def _role_set(roles: Iterable[Role]) -> frozenset[Role]:
    return frozenset(roles)


@attrs.frozen
class User:
    """A user account.

    Every change goes through a method that returns the next version (one
    more than this one, ``updated_at`` set to the given time); storage writes
    it with compare-and-set on ``version``.

    Attributes:
        credential_epoch: Which generation of credentials is current. Every
            session and access token carries the epoch it was issued under and
            acts for the user only while it is still the current one. It is
            bumped in the same write as the change that ends every token (a
            new password, a deactivation, "log out everywhere"), so a login
            that read the user before such a change never yields a token that
            works after it, whatever the clocks of the servers say.
    """

    id: UserId
    email: Email
    name: str
    roles: frozenset[Role] = attrs.field(converter=_role_set)
    is_active: bool
    is_verified: bool
    password_hash: PasswordHash = attrs.field(repr=False)
    created_at: datetime = attrs.field(converter=utc_millis)
    updated_at: datetime = attrs.field(converter=utc_millis)
    version: int
    credential_epoch: int

    @classmethod
    def create(
        cls,
        *,
        id: UserId,
        email: Email,
        password_hash: PasswordHash,
        now: datetime,
        name: str = "",
        roles: frozenset[Role] = frozenset({Role.USER}),
    ) -> User:
        """A new account: active, unverified, at version 1."""
        return cls(
            id=id,
            email=email,
            name=name,
            roles=roles,
            is_active=True,
            is_verified=False,
            password_hash=password_hash,
            created_at=now,
            updated_at=now,
            version=1,
            credential_epoch=1,
        )

    @property
    def is_admin(self) -> bool:
        """Whether this user holds the built-in ``admin`` role."""
        return Role.ADMIN in self.roles

    def with_profile(
        self, *, now: datetime, name: str | None = None, email: Email | None = None
    ) -> User:
        """Change what a user may change about themselves.

        A new email is unverified. Returns ``self`` when nothing changes, so
        callers can skip the write.
        """
        changes: dict[str, Any] = {}
        if name is not None and name != self.name:
            changes["name"] = name
        if email is not None and email != self.email:
            changes["email"] = email
            changes["is_verified"] = False
        return self._next(now, changes)

    def with_admin_changes(
        self,
        *,
        now: datetime,
        name: str | None = None,
        email: Email | None = None,
        roles: frozenset[Role] | None = None,
        is_active: bool | None = None,
        is_verified: bool | None = None,
    ) -> User:
        """Change any managed field, as an administrator may.

        Deactivation voids every existing token for good: reactivating the
        user later does not revive them. Returns ``self`` when nothing changes.
        """
        changed = self.with_profile(now=now, name=name, email=email)
        changes: dict[str, Any] = {}
        if roles is not None and roles != changed.roles:
            changes["roles"] = frozenset(roles)
        if is_verified is not None and is_verified != changed.is_verified:
            changes["is_verified"] = is_verified
        if is_active is not None and is_active != changed.is_active:
            changes["is_active"] = is_active
            if not is_active:
                changes["credential_epoch"] = self.credential_epoch + 1
        if changed is self:
            return self._next(now, changes)
        return attrs.evolve(changed, **changes) if changes else changed

    def with_password(self, password_hash: PasswordHash, *, now: datetime) -> User:
        """Set a new password chosen by the user; every existing session ends."""
        return self._next(
            now, {"password_hash": password_hash, "credential_epoch": self.credential_epoch + 1}
        )

    def with_rehashed_password(self, password_hash: PasswordHash, *, now: datetime) -> User:
        """Store the same password under new hash parameters; sessions stay valid."""
        return self._next(now, {"password_hash": password_hash})

    def with_sessions_revoked(self, *, now: datetime) -> User:
        """Void every session and token issued until now ("log out everywhere")."""
        return self._next(now, {"credential_epoch": self.credential_epoch + 1})

    def accepts_credentials_of(self, epoch: int) -> bool:
        """Whether a token issued under credential epoch ``epoch`` may still act for this user."""
        return self.is_active and epoch == self.credential_epoch

    def _next(self, now: datetime, changes: dict[str, Any]) -> User:
        if not changes:
            return self
        return attrs.evolve(self, **changes, version=self.version + 1, updated_at=now)
