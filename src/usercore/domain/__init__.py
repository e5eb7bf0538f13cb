"""The usercore domain: entities, value objects, policies and errors. Pure, no I/O."""

from usercore.domain.email import Email
from usercore.domain.errors import (
    EmailTakenError,
    InvalidCredentialsError,
    InvalidTokenError,
    PermissionDeniedError,
    SessionNotFoundError,
    ThrottledError,
    UserCoreError,
    UserNotFoundError,
    ValidationError,
    VersionConflictError,
    WeakPasswordError,
)
from usercore.domain.ids import UserId
from usercore.domain.listing import Page, UserQuery
from usercore.domain.names import parse_name
from usercore.domain.passwords import PasswordHash, PasswordPolicy
from usercore.domain.roles import Role, parse_roles
from usercore.domain.sessions import Session
from usercore.domain.throttle import ThrottlePolicy, ThrottleState
from usercore.domain.user import User

__all__ = [
    "Email",
    "EmailTakenError",
    "InvalidCredentialsError",
    "InvalidTokenError",
    "Page",
    "PasswordHash",
    "PasswordPolicy",
    "PermissionDeniedError",
    "Role",
    "Session",
    "SessionNotFoundError",
    "ThrottlePolicy",
    "ThrottleState",
    "ThrottledError",
    "User",
    "UserCoreError",
    "UserId",
    "UserNotFoundError",
    "UserQuery",
    "ValidationError",
    "VersionConflictError",
    "WeakPasswordError",
    "parse_name",
    "parse_roles",
]
