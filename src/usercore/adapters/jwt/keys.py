"""Signing keys: Ed25519 key pairs with a key id, and the ring of them that signs and verifies."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import attrs
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from usercore.domain.timestamps import utc_millis
from usercore.ports.tokens import PublicKeySet

#: The JWS algorithm of every key we make (RFC 8037).
ALGORITHM = "EdDSA"
_ED25519_KEY_BYTES = 32


def b64url(raw: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256) of a public key: our key ids."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": b64url(_raw_public(public_key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return b64url(hashlib.sha256(canonical.encode("ascii")).digest())


@attrs.frozen
class SigningKey:
    """One Ed25519 key pair.

    Attributes:
        kid: Its key id: the RFC 7638 thumbprint of the public key.
        created_at: When it was made; the newest key of a ring signs.
        private_key: The private half (never in ``repr``).
    """

    kid: str
    created_at: datetime = attrs.field(converter=utc_millis)
    private_key: Ed25519PrivateKey = attrs.field(repr=False, eq=False)

    @classmethod
    def generate(cls, *, now: datetime) -> SigningKey:
        """A new random key pair, created at ``now``."""
        private_key = Ed25519PrivateKey.generate()
        return cls(
            kid=thumbprint(private_key.public_key()), created_at=now, private_key=private_key
        )

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, which verifies what the private half signed."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, object]:
        """The public key as a JWK (RFC 8037 §2), ready to publish."""
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(_raw_public(self.public_key)),
            "kid": self.kid,
            "alg": ALGORITHM,
            "use": "sig",
        }

    def private_jwk(self) -> dict[str, object]:
        """The key pair as a JWK with its private part ``d`` and ``created_at``, to store."""
        raw_private = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        created = self.created_at.strftime("%Y-%m-%dT%H:%M:%S.") + (
            f"{self.created_at.microsecond // 1000:03d}Z"
        )
        return {**self.public_jwk(), "d": b64url(raw_private), "created_at": created}

    @classmethod
    def from_private_jwk(cls, jwk: Mapping[str, object]) -> SigningKey:
        """Read a key written by :meth:`private_jwk`.

        Raises:
            ValueError: It is not an Ed25519 private JWK, or its parts don't match.
        """
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise ValueError("only Ed25519 keys (kty OKP, crv Ed25519) are supported")
        d, x, created = jwk.get("d"), jwk.get("x"), jwk.get("created_at")
        if not (isinstance(d, str) and isinstance(x, str) and isinstance(created, str)):
            raise TypeError("a key needs the string members d, x and created_at")
        raw_private = _b64url_decode(d)
        if len(raw_private) != _ED25519_KEY_BYTES:
            raise ValueError("d is not a 32-byte Ed25519 private key")
        private_key = Ed25519PrivateKey.from_private_bytes(raw_private)
        if b64url(_raw_public(private_key.public_key())) != x:
            raise ValueError("x is not the public half of d")
        kid = thumbprint(private_key.public_key())
        if jwk.get("kid", kid) != kid:
            raise ValueError("kid is not the key's RFC 7638 thumbprint")
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        return cls(kid=kid, created_at=created_at, private_key=private_key)


class KeyRing(PublicKeySet):
    """Every key that verifies; the newest (by ``created_at``, then position) signs."""

    def __init__(self, keys: Iterable[SigningKey]) -> None:
        self._keys = tuple(keys)
        if not self._keys:
            raise ValueError("a key ring needs at least one key")
        self._by_kid = {key.kid: key for key in self._keys}
        if len(self._by_kid) != len(self._keys):
            raise ValueError("two keys have the same kid")
        # max() keeps the first of equal elements; search from the end so the
        # later of two keys made in the same millisecond wins.
        self._signing = max(reversed(self._keys), key=lambda key: key.created_at)

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        """All keys, in the order they were given."""
        return self._keys

    @property
    def signing_key(self) -> SigningKey:
        """The key that signs new tokens."""
        return self._signing

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The public key with this id, or None when none of ours has it."""
        key = self._by_kid.get(kid)
        return None if key is None else key.public_key

    def jwks(self) -> dict[str, object]:  # noqa: D102 - documented by the port
        return {"keys": [key.public_jwk() for key in self._keys]}
