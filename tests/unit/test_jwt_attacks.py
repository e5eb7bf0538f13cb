"""Attacks on the JWT verifier: forged algorithms, types, claims, keys; every one refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.test_jwt_tokens import AUDIENCE, ISSUER, NOW, USER
from usercore.adapters.jwt import JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.domain.errors import InvalidTokenError


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate(now=NOW)


@pytest.fixture
def verifier(key: SigningKey) -> JwtAccessTokenVerifier:
    return JwtAccessTokenVerifier(KeyRing([key]), issuer=ISSUER, audience=AUDIENCE)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _segment(document: dict[str, Any]) -> str:
    return _b64(json.dumps(document).encode())


def _payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": USER.value,
        "iat": NOW.timestamp(),
        "exp": int((NOW + timedelta(seconds=900)).timestamp()),
        "jti": "jti-1",
        "roles": ["user"],
        "sid": "0193a000-0000-7000-8000-0000000000bb",
        "epoch": 1,
    }
    payload.update(changes)
    return {name: value for name, value in payload.items() if value is not None}


def _sign(key: SigningKey, payload: dict[str, Any], **header: Any) -> str:
    headers = {"kid": key.kid, "typ": "at+jwt", **header}
    return jwt.encode(payload, key.private_key, algorithm="EdDSA", headers=headers)


def test_refuses_alg_none(verifier: JwtAccessTokenVerifier, key: SigningKey) -> None:
    header = {"alg": "none", "typ": "at+jwt", "kid": key.kid}
    token = f"{_segment(header)}.{_segment(_payload())}."
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


@pytest.mark.parametrize("encoding", ["pem", "raw", "jwk_x"])
def test_refuses_hs256_forged_with_the_public_key_as_secret(
    verifier: JwtAccessTokenVerifier, key: SigningKey, encoding: str
) -> None:
    public = key.public_key
    secrets_by_encoding = {
        "pem": public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "raw": public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        "jwk_x": str(key.public_jwk()["x"]).encode(),
    }
    header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
    signing_input = f"{_segment(header)}.{_segment(_payload())}"
    mac = hmac.new(secrets_by_encoding[encoding], signing_input.encode(), hashlib.sha256)
    token = f"{signing_input}.{_b64(mac.digest())}"
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


@pytest.mark.parametrize("typ", ["JWT", "refresh+jwt", "", 7, None])
def test_refuses_a_token_of_another_type(
    verifier: JwtAccessTokenVerifier, key: SigningKey, typ: object
) -> None:
    header: dict[str, Any] = {"alg": "EdDSA", "kid": key.kid, "typ": typ}
    if typ is None:
        del header["typ"]
    signing_input = f"{_segment(header)}.{_segment(_payload())}"
    token = f"{signing_input}.{_b64(key.private_key.sign(signing_input.encode()))}"
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


def test_accepts_the_media_type_form_of_the_type(
    verifier: JwtAccessTokenVerifier, key: SigningKey
) -> None:
    token = _sign(key, _payload(), typ="application/at+jwt")
    assert verifier.verify(token, now=NOW).subject == USER


@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://evil.example.com"},
        {"aud": "another-api"},
        {"iss": None},
        {"aud": None},
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"jti": None},
        {"sid": None},
        {"epoch": None},
        {"sid": 5},
        {"epoch": "1"},
        {"sub": "not-a-uuid"},
        {"sub": 12},
        {"exp": "tomorrow"},
        {"iat": True},
        {"roles": "admin"},
        {"roles": [1]},
    ],
    ids=repr,
)
def test_refuses_wrong_or_missing_claims(
    verifier: JwtAccessTokenVerifier, key: SigningKey, changes: dict[str, Any]
) -> None:
    payload = _payload(**changes)
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
    with pytest.raises(InvalidTokenError):
        verifier.verify(_sign(key, payload), now=NOW)


def test_refuses_a_key_id_that_is_not_ours(verifier: JwtAccessTokenVerifier) -> None:
    stranger = SigningKey.generate(now=NOW)
    with pytest.raises(InvalidTokenError):
        verifier.verify(_sign(stranger, _payload()), now=NOW)


def test_refuses_our_key_id_on_a_token_signed_by_another_key(
    verifier: JwtAccessTokenVerifier, key: SigningKey
) -> None:
    stranger = SigningKey.generate(now=NOW)
    with pytest.raises(InvalidTokenError):
        verifier.verify(_sign(stranger, _payload(), kid=key.kid), now=NOW)


def test_refuses_a_token_without_key_id(verifier: JwtAccessTokenVerifier, key: SigningKey) -> None:
    token = jwt.encode(_payload(), key.private_key, algorithm="EdDSA", headers={"typ": "at+jwt"})
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_ignores_keys_a_token_brings_along(
    verifier: JwtAccessTokenVerifier, key: SigningKey, member: str
) -> None:
    stranger = SigningKey.generate(now=NOW)
    brought: dict[str, object] = {
        "jwk": stranger.public_jwk(),
        "jku": "https://evil.example.com/jwks.json",
        "x5u": "https://evil.example.com/cert.pem",
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    }
    # Signed by the attacker's key, pointing at it: refused whatever kid says.
    for kid in (stranger.kid, key.kid):
        forged = _sign(stranger, _payload(), kid=kid, **{member: brought[member]})
        with pytest.raises(InvalidTokenError):
            verifier.verify(forged, now=NOW)
    # Signed by our key: the extra header changes nothing, nothing is fetched.
    genuine = _sign(key, _payload(), **{member: brought[member]})
    assert verifier.verify(genuine, now=NOW).subject == USER


def test_refuses_a_critical_extension(verifier: JwtAccessTokenVerifier, key: SigningKey) -> None:
    token = _sign(key, _payload(), crit=["exp"])
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "a.b", "....", "é.é.é", "x" * 10_000, "WzFd.e30.", "bnVsbA.e30."],
    ids=[
        "empty",
        "word",
        "three-parts",
        "two-parts",
        "dots",
        "non-ascii",
        "huge",
        "list-header",
        "null-header",
    ],
)
def test_refuses_garbage(verifier: JwtAccessTokenVerifier, token: str) -> None:
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


def test_refuses_a_tampered_payload(verifier: JwtAccessTokenVerifier, key: SigningKey) -> None:
    header, _, signature = _sign(key, _payload()).split(".")
    tampered = f"{header}.{_segment(_payload(roles=['admin']))}.{signature}"
    with pytest.raises(InvalidTokenError):
        verifier.verify(tampered, now=NOW)


@settings(max_examples=200)
@given(token=st.text() | st.from_regex(r"[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*"))
def test_any_text_is_refused_with_the_one_token_error(token: str) -> None:
    verifier = JwtAccessTokenVerifier(KeyRing([_FUZZ_KEY]), issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW)


_FUZZ_KEY = SigningKey.generate(now=NOW)
