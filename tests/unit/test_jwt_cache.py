"""The verifier's cache of verified tokens saves work and weakens nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.test_jwt_tokens import AUDIENCE, ISSUER, NOW, _claims
from usercore.adapters.jwt import JwtAccessTokenSigner, JwtAccessTokenVerifier, KeyRing, SigningKey
from usercore.domain.errors import InvalidTokenError


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing([SigningKey.generate(now=NOW)])


@pytest.fixture
def signer(ring: KeyRing) -> JwtAccessTokenSigner:
    return JwtAccessTokenSigner(ring, issuer=ISSUER, audience=AUDIENCE)


def test_a_cached_token_still_expires(ring: KeyRing, signer: JwtAccessTokenSigner) -> None:
    verifier = JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)
    token = signer.sign(_claims(expires_at=NOW + timedelta(seconds=60)))
    assert verifier.verify(token, now=NOW).subject == _claims().subject
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW + timedelta(seconds=60))


def test_a_cached_token_is_refused_before_its_issue_time(
    ring: KeyRing, signer: JwtAccessTokenSigner
) -> None:
    verifier = JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)
    token = signer.sign(_claims())
    verifier.verify(token, now=NOW)
    with pytest.raises(InvalidTokenError):
        verifier.verify(token, now=NOW - timedelta(minutes=5))


def test_a_tampered_copy_of_a_cached_token_is_verified_afresh(
    ring: KeyRing, signer: JwtAccessTokenSigner
) -> None:
    verifier = JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)
    token = signer.sign(_claims())
    verifier.verify(token, now=NOW)
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    with pytest.raises(InvalidTokenError):
        verifier.verify(f"{head}.{payload}.{flipped}", now=NOW)


def test_a_token_refused_once_is_refused_again(ring: KeyRing) -> None:
    verifier = JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE)
    foreign = JwtAccessTokenSigner(
        KeyRing([SigningKey.generate(now=NOW)]), issuer=ISSUER, audience=AUDIENCE
    ).sign(_claims())
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            verifier.verify(foreign, now=NOW)


def test_the_cache_is_bounded_and_evicted_tokens_still_verify(
    ring: KeyRing, signer: JwtAccessTokenSigner
) -> None:
    verifier = JwtAccessTokenVerifier(ring, issuer=ISSUER, audience=AUDIENCE, cache_size=3)
    tokens = [signer.sign(_claims(token_id=f"jti-{i}")) for i in range(5)]
    for token in tokens:
        verifier.verify(token, now=NOW)
    assert len(verifier._verified) == 3
    assert tokens[0] not in verifier._verified
    assert verifier.verify(tokens[0], now=NOW).token_id == "jti-0"
