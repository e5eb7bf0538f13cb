"""API.md's token section over a real socket: grants, rotation, reuse, revocation, real clients."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
import warnings
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.e2e.server import PASSWORD, Server, bearer

INVALID_GRANT = {
    "error": "invalid_grant",
    "error_description": "The credentials or grant are not valid.",
}


def test_password_grant_and_refresh_rotation(server: Server) -> None:
    server.register("rot@example.com")
    first = server.login("rot@example.com")
    assert (first["token_type"], first["expires_in"]) == ("Bearer", 900)
    second = server.refresh(first["refresh_token"])
    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert (
        server.client.get("/users/me", headers=bearer(rotated["access_token"])).status_code == 200
    )
    third = server.refresh(rotated["refresh_token"])
    assert third.status_code == 200
    # Reuse of a superseded token revokes the whole rotation family.
    reused = server.refresh(first["refresh_token"])
    assert (reused.status_code, reused.json()) == (400, INVALID_GRANT)
    assert server.refresh(third.json()["refresh_token"]).json() == INVALID_GRANT


def test_logout_ends_the_session_but_not_issued_access_tokens(server: Server) -> None:
    server.register("out@example.com")
    tokens = server.login("out@example.com")
    revoked = server.client.post("/auth/revoke", data={"token": tokens["refresh_token"]})
    assert (revoked.status_code, revoked.headers["cache-control"]) == (200, "no-store")
    assert server.refresh(tokens["refresh_token"]).json() == INVALID_GRANT
    assert server.client.get("/users/me", headers=bearer(tokens["access_token"])).status_code == 200
    unknown = server.client.post("/auth/revoke", data={"token": "never-issued"})
    assert unknown.status_code == 200
    missing = server.client.post("/auth/revoke", data={"token_type_hint": "refresh_token"})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")


def test_failed_logins_look_alike(server: Server) -> None:
    server.register("alike@example.com")
    answers = [
        server.client.post(
            "/auth/token", data={"grant_type": "password", "username": email, "password": password}
        )
        for email, password in [
            ("alike@example.com", "wrong password"),
            ("nobody@example.com", PASSWORD),
            ("not an email", PASSWORD),
        ]
    ]
    assert [(a.status_code, a.json()) for a in answers] == [(400, INVALID_GRANT)] * 3
    unsupported = server.client.post("/auth/token", data={"grant_type": "implicit"})
    assert unsupported.json()["error"] == "unsupported_grant_type"
    malformed = server.client.post("/auth/token", data={"grant_type": "password"})
    assert malformed.json()["error"] == "invalid_request"


# API.md names the algorithm EdDSA; RFC 9864 prefers the name Ed25519 and joserfc says so.
@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_access_tokens_verify_with_the_published_keys_alone(server: Server) -> None:
    user = server.register("jose@example.com")
    access_token = server.login("jose@example.com")["access_token"]
    jwks = server.client.get("/.well-known/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])  # public keys only
    token = jwt.decode(access_token, KeySet.import_key_set(jwks), algorithms=["EdDSA", "Ed25519"])
    assert token.header["kid"] in {key["kid"] for key in jwks["keys"]}
    claims = token.claims
    assert claims["sub"] == user["id"]
    assert {"iss", "aud", "iat", "exp", "jti", "roles"} <= set(claims)
    assert claims["roles"] == ["user"]


def test_a_real_oauth2_client_logs_in_and_refreshes(server: Server) -> None:
    with warnings.catch_warnings():
        # Authlib warns that its httpx integration will move to httpx2; the client is unchanged.
        # Its warning module installs an "always" filter on import, so ours must come after.
        deprecate: Any = importlib.import_module("authlib.deprecate")
        warnings.simplefilter("ignore", deprecate.AuthlibDeprecationWarning)
        client_module: Any = importlib.import_module("authlib.integrations.httpx_client")
    server.register("oauth@example.com")
    token_url = f"{server.base_url}/auth/token"
    with client_module.OAuth2Client(client_id="usercore-e2e", token_endpoint=token_url) as client:
        token = client.fetch_token(token_url, username="oauth@example.com", password=PASSWORD)
        assert token["token_type"] == "Bearer"
        me = client.get(f"{server.base_url}/users/me")
        assert (me.status_code, me.json()["email"]) == (200, "oauth@example.com")
        refreshed = client.refresh_token(token_url)
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert client.get(f"{server.base_url}/users/me").status_code == 200
        server.secrets.update(
            (token["access_token"], token["refresh_token"], refreshed["access_token"])
        )


def test_bearer_challenges_follow_rfc_6750(server: Server) -> None:
    missing = server.client.get("/users/me")
    assert (missing.status_code, missing.headers["www-authenticate"]) == (401, "Bearer")
    for header in ("Bearer not.a.jwt", "Bearer " + "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
        bad = server.client.get("/users/me", headers={"Authorization": header})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert isinstance(missing, httpx.Response)


def test_forged_tokens_are_refused(server: Server) -> None:
    user = server.register("forged@example.com")
    genuine = server.login("forged@example.com")["access_token"]
    claims = json.loads(_unb64(genuine.split(".")[1]))
    key = server.client.get("/.well-known/jwks.json").json()["keys"][0]
    forgeries = {
        # HS256 "signed" with the published public key, the classic confusion attack.
        "hs256": _sign({"alg": "HS256", "kid": key["kid"]}, claims, key["x"].encode()),
        "none": _sign({"alg": "none", "kid": key["kid"]}, claims, None),
        "other audience": _resign_like(genuine, {**claims, "aud": "someone-else"}),
        "tampered subject": _resign_like(genuine, {**claims, "sub": str(user["id"])[:-1] + "0"}),
    }
    for name, token in forgeries.items():
        response = server.client.get("/users/me", headers=bearer(token))
        assert response.status_code == 401, name
    assert server.client.get("/users/me", headers=bearer(genuine)).status_code == 200


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _resign_like(genuine: str, claims: dict[str, Any]) -> str:
    # Keeps the genuine header and signature: the signature no longer matches the claims.
    header, _, signature = genuine.split(".")
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
