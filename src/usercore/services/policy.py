"""Who may do what: the authorization rules every use case shares."""

from __future__ import annotations

from usercore.domain.errors import PermissionDeniedError, UserNotFoundError
from usercore.domain.ids import UserId
from usercore.domain.user import User


def require_admin(actor: User, action: str) -> None:
    """Refuse ``action`` unless ``actor`` is an active administrator.

    Raises:
        PermissionDeniedError: ``actor`` is not one.
    """
    if not (actor.is_admin and actor.is_active):
        raise PermissionDeniedError(action)


def require_self_or_admin(actor: User, user_id: UserId) -> None:
    """Refuse access to another user's record unless ``actor`` is an admin.

    Raises:
        UserNotFoundError: Not ``permission denied``, so nobody learns which
            ids exist.
    """
    if actor.id != user_id and not (actor.is_admin and actor.is_active):
        raise UserNotFoundError(user_id.value)
