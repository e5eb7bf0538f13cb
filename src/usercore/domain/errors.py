"""The usercore error tree: every error the library raises descends from UserCoreError.

Errors carry data (ids, field names, reasons) so callers can act on them, and
never a password or a hash: their messages are safe to log and to show.
"""

from __future__ import annotations

from collections.abc import Sequence


class UserCoreError(Exception):
    """Base of every error usercore raises on purpose."""


class ValidationError(UserCoreError):
    """Input does not have the required shape.

    Attributes:
        field: The name of the offending input field, as the caller spelled it.
        message: What is wrong with it, in words a user can act on.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class WeakPasswordError(UserCoreError):
    """A new password was refused by the password policy.

    Attributes:
        reasons: Every reason it was refused, each a sentence a user can act on.
    """

    def __init__(self, reasons: Sequence[str]) -> None:
        # Each reason is a whole sentence, so they read as one paragraph.
        super().__init__(" ".join(reasons))
        self.reasons = tuple(reasons)


class EmailTakenError(UserCoreError):
    """Another account already uses this (normalised) email address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an account with the email {email!r} already exists")
        self.email = email


class UserNotFoundError(UserCoreError):
    """No user with this id exists, or the caller may not know that it does."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"user {user_id} not found")
        self.user_id = user_id


class InvalidCredentialsError(UserCoreError):
    """The email/password pair does not match an active account.

    One error for unknown emails, wrong passwords and inactive users alike, so
    that nobody learns which emails have accounts.
    """

    def __init__(self) -> None:
        super().__init__("invalid email or password")


class VersionConflictError(UserCoreError):
    """A compare-and-set write lost: the record is no longer at the expected version.

    Attributes:
        user_id: The record that was written.
        expected_version: The version the writer based its change on.
    """

    def __init__(self, user_id: str, expected_version: int) -> None:
        super().__init__(f"user {user_id} is no longer at version {expected_version}")
        self.user_id = user_id
        self.expected_version = expected_version


class PermissionDeniedError(UserCoreError):
    """The acting user may not perform this action.

    Attributes:
        action: The use case that was refused, e.g. ``"list_users"``.
    """

    def __init__(self, action: str) -> None:
        super().__init__(f"not allowed to {action.replace('_', ' ')}")
        self.action = action


class SessionNotFoundError(UserCoreError):
    """No login session with this id exists."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id} not found")
        self.session_id = session_id


class InvalidTokenError(UserCoreError):
    """A presented token is malformed, expired, revoked, reused or otherwise void.

    One error for every case, so that a caller learns nothing about which.
    """

    def __init__(self, reason: str = "invalid token") -> None:
        super().__init__(reason)
        self.reason = reason


class ThrottledError(UserCoreError):
    """Too many failed attempts in a row: the next one has to wait.

    Raised before the attempt is checked, so it says nothing about whether
    the account exists or the password was right.

    Attributes:
        retry_after_seconds: Whole seconds until an attempt is allowed (at least 1).
    """

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many failed attempts; try again in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds
