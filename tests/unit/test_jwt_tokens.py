"""The JWT access-token adapter: what it signs, how it verifies, published keys, rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.domain.errors import InvalidTokenError
from usercore.domain.ids import UserId
from usercore.ports.tokens import AccessClaims

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
USER = UserId("0193a000-0000-7000-8000-0000000000aa")
ISSUER, AUDIENCE = "https://auth.example.com", "example-api"


def _claims(**changes: Any) -> AccessClaims:
    values: dict[str, Any] = {
        "subject": USER,
        "roles": ["user", "admin"],
        "issued_at": NOW,
        "expires_at": NOW + timedelta(seconds=900),
        "token_id": "jti-1",
        "session_id": "0193a000-0000-7000-8000-0000000000bb",
        "epoch": 3,
    }
    return AccessClaims(**{**values, **changes})


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate(now=NOW)


@pytest.fixture
def ring(key: SigningKey) -> KeyRing:
    return KeyRing([key])


@pytest.fixture
def signer(ring: KeyRing) -> JwtAccessTokenSigner:
    return JwtAccessTokenSigner(ring, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def verifier(ring: KeyRing) -> JwtAccessTokenVerifier:
    return JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)


def test_signs_the_documented_header_and_claims(
    signer: JwtAccessTokenSigner, key: SigningKey
) -> None:
    token = signer.sign(_claims())

    header = jwt.get_unverified_header(token)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert header == {"alg": "EdDSA", "kid": key.kid, "typ": "at+jwt"}
    assert payload == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": USER.value,
        "iat": 1772366400,
        "exp": 1772367300,
        "jti": "jti-1",
        "roles": ["admin", "user"],
        "sid": "0193a000-0000-7000-8000-0000000000bb",
        "epoch": 3,
    }


def test_iat_and_exp_are_whole_seconds_rounded_down(
    signer: JwtAccessTokenSigner, verifier: JwtAccessTokenVerifier
) -> None:
    # RFC 7519 NumericDate as strict verifiers expect: a fractional iat is
    # "issued in the future" to them for up to a second.
    claims = _claims(
        issued_at=NOW + timedelta(milliseconds=999),
        expires_at=NOW + timedelta(seconds=900, milliseconds=7),
    )
    token = signer.sign(claims)
    payload = jwt.decode(token, options={"verify_signature": False})
    assert (type(payload["iat"]), type(payload["exp"])) == (int, int)
    verified = verifier.verify(token, now=NOW + timedelta(seconds=1))
    assert (verified.issued_at, verified.expires_at) == (NOW, NOW + timedelta(seconds=900))
    assert (verified.session_id, verified.epoch) == (claims.session_id, claims.epoch)


@pytest.mark.parametrize("epoch", [True, 1.0, "1", None])
def test_refuses_an_epoch_that_is_not_an_integer(
    key: SigningKey, verifier: JwtAccessTokenVerifier, epoch: object
) -> None:
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": USER.value,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 60,
        "jti": "j",
        "sid": "s",
        "epoch": epoch,
    }
    headers = {"kid": key.kid, "typ": "at+jwt"}
    token = jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


# RFC 9864 prefers the fully specified "Ed25519" over "EdDSA"; we still sign
# with "EdDSA", which far more verifiers understand today.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_an_independent_jose_library_verifies_with_only_the_jwks(
    signer: JwtAccessTokenSigner, ring: KeyRing
) -> None:
    token = signer.sign(_claims())
    published = json.loads(json.dumps(ring.jwks()))  # exactly what goes over the wire

    decoded = jose_jwt.decode(token, KeySet.import_key_set(published), algorithms=["EdDSA"])

    assert decoded.header["typ"] == "at+jwt"
    assert decoded.claims["sub"] == USER.value
    assert decoded.claims["roles"] == ["admin", "user"]


# RFC 9864 prefers the fully specified "Ed25519" over "EdDSA"; we still sign
# with "EdDSA", which far more verifiers understand today.
@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_strict_verifiers_accept_a_token_the_instant_it_is_issued(
    signer: JwtAccessTokenSigner, ring: KeyRing, key: SigningKey
) -> None:
    # A fractional iat was "issued in the future" to joserfc for up to a second.
    now = datetime.now(UTC).replace(microsecond=999_000)
    token = signer.sign(_claims(issued_at=now, expires_at=now + timedelta(minutes=15)))
    decoded = jose_jwt.decode(
        token, KeySet.import_key_set(json.loads(json.dumps(ring.jwks()))), algorithms=["EdDSA"]
    )
    jose_jwt.JWTClaimsRegistry(leeway=0).validate(decoded.claims)
    jwt.decode(
        token, key.public_key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER, leeway=0
    )


def test_jwks_holds_no_private_parts(ring: KeyRing) -> None:
    published = ring.jwks()
    assert published == {"keys": [ring.signing_key.public_jwk()]}
    for jwk in published["keys"]:  # type: ignore[attr-defined]
        assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}


def test_expires_at_exp_by_the_given_clock(
    signer: JwtAccessTokenSigner, verifier: JwtAccessTokenVerifier
) -> None:
    token = signer.sign(_claims())
    expiry = datetime(2026, 3, 1, 12, 15, tzinfo=UTC)

    assert verifier.verify(token, now=expiry - timedelta(milliseconds=1)).token_id == "jti-1"
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=expiry)


def test_refuses_a_token_issued_in_the_future(
    signer: JwtAccessTokenSigner, verifier: JwtAccessTokenVerifier
) -> None:
    token = signer.sign(_claims(issued_at=NOW + timedelta(minutes=5)))
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


def test_after_rotation_old_tokens_verify_and_the_newest_key_signs(key: SigningKey) -> None:
    old_signer = JwtAccessTokenSigner(KeyRing([key]), issuer=ISSUER, audience=AUDIENCE)
    old_token = old_signer.sign(_claims())
    newer = SigningKey.generate(now=NOW + timedelta(days=1))
    rotated = KeyRing([key, newer])
    signer = JwtAccessTokenSigner(rotated, issuer=ISSUER, audience=AUDIENCE)
    verifier = JwtAccessTokenVerifier(rotated, issuer=ISSUER, audience=AUDIENCE)

    new_token = signer.sign(_claims())

    assert jwt.get_unverified_header(new_token)["kid"] == newer.kid
    assert verifier.verify(old_token, now=NOW).subject == USER
    assert verifier.verify(new_token, now=NOW).subject == USER
