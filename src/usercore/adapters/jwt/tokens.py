"""Access tokens as JWTs (RFC 9068 profile) signed with EdDSA, via PyJWT.

The token's header carries ``typ: at+jwt``, ``alg: EdDSA`` and the signing
key's ``kid``; its claims ``iss``, ``aud``, ``sub`` (the user id), ``iat``,
``exp``, ``jti``, ``roles`` (sorted role names), ``sid`` (the login session)
and ``epoch`` (the user's credential epoch it was issued under).

``iat`` and ``exp`` are whole seconds (RFC 7519 NumericDate as every common
verifier expects: strict ones refuse a fractional ``iat`` as "issued in the
future"). No revocation decision depends on them: that is ``epoch``'s job.
"""

from __future__ import annotations

import base64
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from usercore.adapters.jwt.keys import ALGORITHM, KeyRing
from usercore.domain.errors import InvalidTokenError, ValidationError
from usercore.domain.ids import UserId
from usercore.domain.timestamps import utc_millis
from usercore.ports.tokens import AccessClaims, AccessTokenSigner, AccessTokenVerifier

#: The JWT ``typ`` of access tokens (RFC 9068 §2.1).
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
_ACCEPTED_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/at+jwt"})
#: Longer tokens are refused before any parsing; ours are a few hundred bytes.
MAX_TOKEN_LENGTH = 8192
#: How far in the future ``iat`` may be, for servers whose clocks disagree slightly.
CLOCK_SKEW = timedelta(seconds=30)
_REQUIRED_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "epoch"]
#: Verified tokens remembered per process. Verifying an Ed25519 signature
#: costs more than the rest of a ``GET /users/me``; clients present the same
#: access token for its whole life, so each is verified once. A few MB at most.
VERIFIED_CACHE_SIZE = 4096


def _numeric_date(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _from_numeric_date(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidTokenError
    try:
        return utc_millis(datetime.fromtimestamp(round(value * 1000) / 1000, UTC))
    except (OverflowError, OSError, ValueError):
        raise InvalidTokenError from None


class JwtAccessTokenSigner(AccessTokenSigner):
    """Signs access tokens with the ring's newest key."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    def sign(self, claims: AccessClaims) -> str:  # noqa: D102 - documented by the port
        key = self._keys.signing_key
        payload = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.subject.value,
            "iat": _numeric_date(claims.issued_at),
            "exp": _numeric_date(claims.expires_at),
            "jti": claims.token_id,
            "roles": list(claims.roles),
            "sid": claims.session_id,
            "epoch": claims.epoch,
        }
        headers = {"kid": key.kid, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers=headers)


class JwtAccessTokenVerifier(AccessTokenVerifier):
    """Verifies access tokens against our own keys only.

    The algorithm is pinned to EdDSA; the key is picked by ``kid`` among the
    ring's keys and nowhere else: ``jku``, ``x5u``, ``jwk`` and ``x5c``
    headers are ignored, so a token can't bring its own key. Times are checked
    against the ``now`` given, from the injected clock.
    """

    def __init__(
        self,
        keys: KeyRing,
        *,
        issuer: str,
        audience: str,
        cache_size: int = VERIFIED_CACHE_SIZE,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._cache_size = cache_size
        self._verified: dict[str, AccessClaims] = {}

    def verify(self, token: str, *, now: datetime) -> AccessClaims:  # noqa: D102
        claims = self._verified.get(token)
        if claims is not None:
            # The signature and claims of this exact string were checked
            # before; only the time can have made it unacceptable since.
            _check_times(claims.issued_at, claims.expires_at, now)
            return claims
        claims = self._verify_signed(token, now)
        if len(self._verified) >= self._cache_size:
            # Evict the oldest entry (dicts keep insertion order): clients
            # reuse their newest tokens, the oldest are nearest to expiry.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = claims
        return claims

    def _verify_signed(self, token: str, now: datetime) -> AccessClaims:
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError
        header = _unverified_header(token)
        kid, typ = header.get("kid"), header.get("typ")
        if (
            header.get("alg") != ALGORITHM
            or not isinstance(typ, str)
            or typ.lower() not in _ACCEPTED_TYPES
            or not isinstance(kid, str)
            or "crit" in header  # no extension is understood, so none may be critical
        ):
            raise InvalidTokenError
        public_key = self._keys.public_key(kid)
        if public_key is None:
            raise InvalidTokenError
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                options={
                    "require": _REQUIRED_CLAIMS,
                    # Times are checked below against the injected clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError:
            raise InvalidTokenError from None
        return _claims(payload, now)


def _unverified_header(token: str) -> dict[str, Any]:
    # Read here rather than with jwt.get_unverified_header, which decodes and
    # checks the whole token a second time: verification is on every request.
    encoded, dot, _ = token.partition(".")
    if not dot:
        raise InvalidTokenError
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, TypeError):
        raise InvalidTokenError from None
    if not isinstance(header, dict):
        raise InvalidTokenError
    return header


def _check_times(issued_at: datetime, expires_at: datetime, now: datetime) -> None:
    if not now < expires_at or issued_at > now + CLOCK_SKEW:
        raise InvalidTokenError


def _claims(payload: dict[str, Any], now: datetime) -> AccessClaims:
    issued_at = _from_numeric_date(payload["iat"])
    expires_at = _from_numeric_date(payload["exp"])
    _check_times(issued_at, expires_at, now)
    sub, jti, roles = payload["sub"], payload["jti"], payload.get("roles", [])
    sid, epoch = payload["sid"], payload["epoch"]
    if not (
        isinstance(sub, str)
        and isinstance(jti, str)
        and isinstance(sid, str)
        and type(epoch) is int  # not bool, not float
        and isinstance(roles, list)
        and all(isinstance(role, str) for role in roles)
    ):
        raise InvalidTokenError
    try:
        subject = UserId.parse(sub)
    except ValidationError:
        raise InvalidTokenError from None
    return AccessClaims(
        subject=subject,
        roles=roles,
        issued_at=issued_at,
        expires_at=expires_at,
        token_id=jti,
        session_id=sid,
        epoch=epoch,
    )
