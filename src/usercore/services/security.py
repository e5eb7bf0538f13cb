"""Security events: one structured log line each, for operators, audits and metrics.

Every line goes to the ``usercore.security`` logger at INFO, with the event
name as the message and in ``event``, the user's id (when one is known) and
the acting user's id (when another user acted). The request id is added by
the server's log filter. No line ever carries a password, a token, a refresh
secret, a hash or a key. The HTTP server counts the lines by event in
``usercore_security_events_total``.
"""

from __future__ import annotations

import enum
import logging

from usercore.domain.ids import UserId

#: The logger every security event is written to.
SECURITY_LOGGER = "usercore.security"

_log = logging.getLogger(SECURITY_LOGGER)


class SecurityEvent(enum.StrEnum):
    """What happened."""

    LOGIN_FAILED = "login_failed"
    LOGIN_THROTTLED = "login_throttled"
    REAUTHENTICATION_FAILED = "reauthentication_failed"
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 - an event name
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    EMAIL_CHANGED = "email_changed"
    SESSION_REVOKED = "session_revoked"
    ALL_SESSIONS_REVOKED = "all_sessions_revoked"
    ROLES_CHANGED = "roles_changed"
    ACTIVE_CHANGED = "active_changed"
    USER_DELETED = "user_deleted"


def record(
    event: SecurityEvent,
    *,
    user_id: UserId | None = None,
    actor_id: UserId | None = None,
    **details: str | int | bool | list[str] | None,
) -> None:
    """Write one security event; ``details`` are plain, non-secret facts (e.g. a reason)."""
    _log.info(
        event.value,
        extra={
            "event": event.value,
            "user_id": None if user_id is None else user_id.value,
            "actor_id": None if actor_id is None else actor_id.value,
            **details,
        },
    )
