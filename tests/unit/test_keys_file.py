"""The signing key file: made once, private, read at start, rotated by adding a key."""

from __future__ import annotations

import inspect
import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from usercore.adapters.jwt import KeyRing, SigningKey, add_key, create_key_file, read_key_file
from usercore.config import Settings, SettingsError
from usercore.container import build_container, resolve, rotate_signing_keys
from usercore.container.keys import open_signing_keys, signing_key_path
from usercore.ports.tokens import SigningKeyError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


SQLITE = "sqlite+aiosqlite:///usercore.sqlite3"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_private_key_file_in_a_new_directory(tmp_path: Path) -> None:
    path = tmp_path / "data" / "nested" / "signing-keys.json"

    ring = create_key_file(path, now=NOW)

    assert _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    assert len(ring.keys) == 1
    assert ring.signing_key.created_at == NOW
    assert [p.name for p in path.parent.iterdir()] == ["signing-keys.json"]  # no temp left


def test_later_starts_read_the_same_keys(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    first = create_key_file(path, now=NOW)

    again = create_key_file(path, now=NOW + timedelta(days=1))

    assert [key.kid for key in again.keys] == [key.kid for key in first.keys]
    assert again.jwks() == first.jwks()


def test_the_file_is_a_jwk_set_with_private_keys_and_creation_times(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    ring = create_key_file(path, now=NOW)

    document = json.loads(path.read_text())

    (jwk,) = document["keys"]
    assert jwk["kid"] == ring.signing_key.kid
    assert jwk["created_at"] == "2026-03-01T12:00:00.000Z"
    assert {"kty", "crv", "x", "d", "alg", "use"} <= set(jwk)


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    rings: list[KeyRing] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        rings.append(create_key_file(path, now=NOW))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({ring.signing_key.kid for ring in rings}) == 1
    assert len(read_key_file(path).keys) == 1


def test_rotation_adds_a_key_that_signs_while_old_keys_still_verify(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    old = create_key_file(path, now=NOW).signing_key

    new = add_key(path, now=NOW + timedelta(days=30))

    ring = read_key_file(path)
    assert ring.signing_key.kid == new.kid != old.kid
    assert ring.public_key(old.kid) is not None
    assert {jwk["kid"] for jwk in ring.jwks()["keys"]} == {old.kid, new.kid}  # type: ignore[attr-defined]
    assert _mode(path) == 0o600


def test_of_keys_made_in_the_same_millisecond_the_later_one_signs() -> None:
    first, second = SigningKey.generate(now=NOW), SigningKey.generate(now=NOW)
    assert KeyRing([first, second]).signing_key is second


def test_the_newest_key_signs_whatever_its_position(tmp_path: Path) -> None:
    newest, older = SigningKey.generate(now=NOW), SigningKey.generate(now=NOW - timedelta(days=9))
    assert KeyRing([newest, older]).signing_key is newest


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o666])
def test_refuses_a_key_file_others_may_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "signing-keys.json"
    create_key_file(path, now=NOW)
    path.chmod(mode)

    with pytest.raises(SigningKeyError, match="chmod 600"):
        read_key_file(path)
    with pytest.raises(SigningKeyError):
        add_key(path, now=NOW)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "not json",
        "[]",
        '{"keys": []}',
        '{"keys": [1]}',
        '{"keys": [{"kty": "RSA"}]}',
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA", "created_at": "x"}]}',
        b"\xff\xfe".decode("latin-1"),
    ],
)
def test_refuses_a_malformed_key_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "signing-keys.json"
    path.write_text(content, encoding="latin-1")
    path.chmod(0o600)
    with pytest.raises(SigningKeyError):
        read_key_file(path)


def test_refuses_a_key_whose_public_half_does_not_match(tmp_path: Path) -> None:
    path = tmp_path / "signing-keys.json"
    create_key_file(path, now=NOW)
    document = json.loads(path.read_text())
    document["keys"][0]["x"] = SigningKey.generate(now=NOW).public_jwk()["x"]
    path.write_text(json.dumps(document))

    with pytest.raises(SigningKeyError, match="public half"):
        read_key_file(path)


def test_a_configured_key_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="USERCORE_SIGNING_KEY_FILE"):
        open_signing_keys(tmp_path / "missing.json", tmp_path, database_url=SQLITE)
    assert list(tmp_path.iterdir()) == []


def test_without_a_configured_file_the_keys_live_in_the_data_directory(tmp_path: Path) -> None:
    ring = open_signing_keys(None, tmp_path / "data", database_url=SQLITE)

    path = tmp_path / "data" / "signing-keys.json"
    assert read_key_file(path).signing_key.kid == ring.signing_key.kid
    settings = Settings.load(
        {"data_dir": tmp_path / "data", "database_url": "memory://"}, environ={}
    )
    assert signing_key_path(settings) == path


def test_memory_storage_keeps_its_key_in_memory_unless_a_file_is_configured(
    tmp_path: Path,
) -> None:
    # Nothing of a memory:// core may land in a data directory shared by every project.
    ring = open_signing_keys(None, tmp_path / "data", database_url="memory://")
    assert ring.signing_key.kid
    assert not (tmp_path / "data").exists()


def test_rotate_signing_keys_returns_the_new_kid_that_signs_after_a_restart(
    tmp_path: Path,
) -> None:
    settings = Settings.load({"data_dir": tmp_path, "database_url": "memory://"}, environ={})
    before = open_signing_keys(None, tmp_path, database_url=SQLITE).signing_key.kid

    kid = rotate_signing_keys(settings)

    after = open_signing_keys(None, tmp_path, database_url=SQLITE)
    assert after.signing_key.kid == kid != before
    assert after.public_key(before) is not None


def test_rotate_signing_keys_creates_a_configured_file(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "usercore.jwks.json"
    settings = Settings.load(
        {"signing_key_file": str(path), "database_url": "memory://"}, environ={}
    )

    kid = rotate_signing_keys(settings)

    assert open_signing_keys(path, tmp_path, database_url=SQLITE).signing_key.kid == kid
    assert _mode(path) == 0o600


def test_rotate_signing_keys_names_the_setting_when_the_file_is_unsafe(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path, now=NOW)
    path.chmod(0o644)
    settings = Settings.load(
        {"signing_key_file": str(path), "database_url": "memory://"}, environ={}
    )

    with pytest.raises(SettingsError, match="USERCORE_SIGNING_KEY_FILE"):
        rotate_signing_keys(settings)


async def test_the_container_serves_tokens_signed_by_the_data_directory_key(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'usercore.sqlite3'}"
    settings = Settings.load({"data_dir": tmp_path, "database_url": database_url}, environ={})
    container = build_container(settings)
    try:
        tokens = await resolve(container.token_service())
    finally:
        stopping = container.shutdown_resources()
        if inspect.isawaitable(stopping):
            await stopping

    on_disk = read_key_file(signing_key_path(settings))
    assert tokens.jwks() == on_disk.jwks()


async def test_the_container_refuses_an_unsafe_key_file_naming_the_setting(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path, now=NOW)
    path.chmod(0o644)
    settings = Settings.load(
        {"signing_key_file": str(path), "database_url": "memory://"}, environ={}
    )

    with pytest.raises(SettingsError, match="USERCORE_SIGNING_KEY_FILE"):
        await resolve(build_container(settings).token_service())
