"""JWT access tokens signed with Ed25519 (PyJWT + cryptography), and the signing key file."""

from usercore.adapters.jwt.keyfile import add_key, create_key_file, read_key_file
from usercore.adapters.jwt.keys import KeyRing, SigningKey
from usercore.adapters.jwt.tokens import JwtAccessTokenSigner, JwtAccessTokenVerifier

__all__ = [
    "JwtAccessTokenSigner",
    "JwtAccessTokenVerifier",
    "KeyRing",
    "SigningKey",
    "add_key",
    "create_key_file",
    "read_key_file",
]
