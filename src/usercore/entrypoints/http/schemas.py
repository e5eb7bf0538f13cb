"""Transport schemas: msgspec Structs for bodies in and out, mapped explicitly to the domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from usercore.domain.email import MAX_EMAIL_LENGTH
from usercore.domain.listing import Page
from usercore.domain.names import MAX_NAME_LENGTH
from usercore.domain.passwords import MAX_PASSWORD_LENGTH
from usercore.domain.roles import Role, parse_roles
from usercore.domain.sessions import Session
from usercore.domain.user import User

EmailText = Annotated[str, msgspec.Meta(max_length=MAX_EMAIL_LENGTH, examples=["ada@example.com"])]
PasswordText = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
NameText = Annotated[str, msgspec.Meta(max_length=MAX_NAME_LENGTH, examples=["Ada"])]
RoleText = Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")]
#: Nobody needs more roles than this; the bound keeps a request's work small.
MAX_ROLES = 32


class UserOut(msgspec.Struct, frozen=True):
    """A user as the API shows it: never the password or its hash."""

    id: str
    email: str
    name: str
    roles: list[str]
    is_active: bool
    is_verified: bool
    created_at: datetime
    updated_at: datetime
    version: int


class UserPageOut(msgspec.Struct, frozen=True):
    """One page of a user listing."""

    items: list[UserOut]
    next_cursor: str | None


class Registration(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /users``: a new account."""

    email: EmailText
    password: PasswordText
    name: NameText = ""


class ProfileChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PATCH /users/me``: what users may change about themselves (null: unchanged)."""

    name: NameText | None = None
    email: EmailText | None = None


class AdminChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PATCH /users/{id}``: what an administrator may change (null: unchanged)."""

    name: NameText | None = None
    email: EmailText | None = None
    roles: Annotated[list[RoleText], msgspec.Meta(max_length=MAX_ROLES)] | None = None
    is_active: bool | None = None
    is_verified: bool | None = None

    def role_set(self) -> frozenset[Role] | None:
        """The requested roles as domain values (None: unchanged)."""
        return None if self.roles is None else parse_roles(self.roles)


class PasswordChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``PUT /users/me/password``."""

    current_password: PasswordText
    new_password: PasswordText


class EmailChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /users/me/email``: a new login email, proven by the current password."""

    email: EmailText
    current_password: PasswordText


class PendingEmailOut(msgspec.Struct, frozen=True):
    """The answer to ``POST /users/me/email``."""

    pending_email: str


class Reauthentication(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``DELETE /users/me``: the current password, proving it is the account's owner."""

    current_password: PasswordText


class TokenRequest(msgspec.Struct, frozen=True):
    """``POST /auth/token`` form fields (RFC 6749 §4.3 and §6).

    Unknown fields are allowed here alone: RFC 6749 §3.2 requires the token
    endpoint to ignore parameters it does not know.
    """

    grant_type: str = ""
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    client_id: str | None = None
    scope: str | None = None


class RevokeRequest(msgspec.Struct, frozen=True):
    """``POST /auth/revoke`` form fields (RFC 7009); unknown ones are ignored."""

    token: str | None = None
    token_type_hint: str | None = None


class TokenOut(msgspec.Struct, frozen=True):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str


class Revoked(msgspec.Struct, frozen=True):
    """A revocation's answer: an empty object, whether or not the token was known (RFC 7009)."""


class OAuthError(msgspec.Struct, frozen=True, omit_defaults=True):
    """A token endpoint error (RFC 6749 §5.2)."""

    error: str
    error_description: str | None = None


class Health(msgspec.Struct, frozen=True):
    """A health probe's answer."""

    status: str


def user_out(user: User) -> UserOut:
    """The API view of a user."""
    return UserOut(
        id=user.id.value,
        email=user.email.value,
        name=user.name,
        roles=sorted(role.name for role in user.roles),
        is_active=user.is_active,
        is_verified=user.is_verified,
        created_at=user.created_at,
        updated_at=user.updated_at,
        version=user.version,
    )


def page_out(page: Page[User]) -> UserPageOut:
    """The API view of a page of users."""
    return UserPageOut(items=[user_out(user) for user in page.items], next_cursor=page.next_cursor)


class SessionOut(msgspec.Struct, frozen=True):
    """A login session as its user sees it (never a token or its hash)."""

    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


class SessionListOut(msgspec.Struct, frozen=True):
    """``GET /users/me/sessions``: the caller's live sessions, newest first."""

    items: list[SessionOut]


def sessions_out(sessions: list[Session], *, current: str) -> SessionListOut:
    """The API view of a user's sessions; ``current`` is the id of the caller's own session."""
    return SessionListOut(
        items=[
            SessionOut(
                id=session.id,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                expires_at=session.expires_at,
                user_agent=session.user_agent,
                current=session.id == current,
            )
            for session in sessions
        ]
    )
