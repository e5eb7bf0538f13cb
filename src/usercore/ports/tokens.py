"""Token ports: signing and verifying access tokens, and publishing the public keys."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import attrs

from usercore.domain.errors import UserCoreError
from usercore.domain.ids import UserId


def _sorted_roles(roles: object) -> tuple[str, ...]:
    if isinstance(roles, str) or not isinstance(roles, list | tuple | set | frozenset):
        raise TypeError("roles must be a collection of role names")
    return tuple(sorted(str(role) for role in roles))


@attrs.frozen
class AccessClaims:
    """What an access token says about its bearer.

    Attributes:
        subject: The user the token acts for.
        roles: The user's role names when it was issued, sorted (informational:
            authorization decisions use the stored user).
        issued_at: When it was issued, in whole seconds (RFC 7519 NumericDate).
            Informational: revocation is decided by ``epoch``, not by time.
        expires_at: The moment it stops being valid, in whole seconds.
        token_id: A unique id of this token (the JWT ``jti``).
        session_id: The login session it was issued for (the JWT ``sid``).
        epoch: The user's credential epoch it was issued under; it acts for
            the user only while that is still the current one.
    """

    subject: UserId
    roles: tuple[str, ...] = attrs.field(converter=_sorted_roles)
    issued_at: datetime
    expires_at: datetime
    token_id: str
    session_id: str
    epoch: int


class AccessTokenSigner(Protocol):
    """Turns claims into a signed, self-contained access token."""

    def sign(self, claims: AccessClaims) -> str:
        """A token carrying ``claims``, signed with the newest signing key."""
        ...


class AccessTokenVerifier(Protocol):
    """Checks access tokens made by an :class:`AccessTokenSigner` of ours."""

    def verify(self, token: str, *, now: datetime) -> AccessClaims:
        """The claims of ``token`` if it is ours, well-formed and unexpired at ``now``.

        Checks the signature with one of our own keys only (chosen by the
        token's key id), the algorithm, the token type, issuer, audience and
        expiry. Says nothing about the user: the caller checks that the user
        still exists and is still at credential epoch ``epoch``.

        Raises:
            InvalidTokenError: For any reason the token is not acceptable; one
                error for all, whatever the reason.
        """
        ...


class PublicKeySet(Protocol):
    """Publishes the public halves of the signing keys, so anyone can verify our tokens."""

    def jwks(self) -> dict[str, object]:
        """A JWK Set (RFC 7517 §5) of every key that verifies, without private parts."""
        ...


class SigningKeyError(UserCoreError):
    """The signing keys can't be read, written or trusted (e.g. a key file others can read).

    Attributes:
        path: The key file concerned.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"signing key file {path}: {reason}")
        self.path = path
        self.reason = reason
