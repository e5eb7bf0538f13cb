"""The throttle key file, the throttle settings, and the container's throttle providers."""

from __future__ import annotations

import stat
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from usercore.adapters.memory import InMemoryThrottleStore
from usercore.adapters.sqlalchemy import SqlAlchemyThrottleStore
from usercore.adapters.system import SecretFileError, create_secret_file, read_secret_file
from usercore.config import Settings, SettingsError
from usercore.container import Container, build_container, resolve
from usercore.container.facade import start_resources, stop_resources
from usercore.container.throttle import open_throttle_secret
from usercore.domain.errors import ThrottledError
from usercore.domain.throttle import ThrottlePolicy
from usercore.services.throttle import LoginThrottle


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_start_creates_a_private_random_key(tmp_path: Path) -> None:
    path = tmp_path / "data" / "throttle-key"
    key = create_secret_file(path)
    assert len(key) == 32
    assert _mode(path) == 0o600
    assert path.read_text() == key.hex() + "\n"
    assert [p.name for p in path.parent.iterdir()] == ["throttle-key"]  # no temp left
    assert create_secret_file(path) == key
    assert create_secret_file(tmp_path / "other") != key


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    path = tmp_path / "throttle-key"
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(create_secret_file(path))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_refuses_a_key_file_others_may_access(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "throttle-key"
    create_secret_file(path)
    path.chmod(mode)
    with pytest.raises(SecretFileError, match="chmod 600"):
        read_secret_file(path)


@pytest.mark.parametrize("content", [b"", b"not hex\n", b"ab" * 31 + b"\n", b"\xff" * 64])
def test_refuses_a_malformed_or_short_key(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "throttle-key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(SecretFileError):
        read_secret_file(path)


def test_an_operator_written_hex_key_is_read(tmp_path: Path) -> None:
    path = tmp_path / "throttle-key"
    path.write_text("  " + "0f" * 48 + "\n")
    path.chmod(0o600)
    assert read_secret_file(path) == bytes.fromhex("0f" * 48)


def test_the_key_lives_beside_the_signing_keys(tmp_path: Path) -> None:
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    in_data_dir = open_throttle_secret(sqlite, None, None, tmp_path / "data")
    assert read_secret_file(tmp_path / "data" / "throttle-key") == in_data_dir
    keys = tmp_path / "keys" / "signing-keys.json"
    beside = open_throttle_secret(sqlite, None, keys, tmp_path / "data")
    assert read_secret_file(tmp_path / "keys" / "throttle-key") == beside


def test_memory_storage_keeps_a_random_key_in_memory_only(tmp_path: Path) -> None:
    assert open_throttle_secret("memory://", None, None, tmp_path) != open_throttle_secret(
        "memory://", None, None, tmp_path
    )
    assert list(tmp_path.iterdir()) == []
    # Counts in Redis are shared with other processes: so must the key be.
    open_throttle_secret("memory://", "redis://127.0.0.1:6379/0", None, tmp_path)
    assert (tmp_path / "throttle-key").exists()


def test_an_unsafe_key_file_names_the_setting_that_places_it(tmp_path: Path) -> None:
    create_secret_file(tmp_path / "throttle-key")
    (tmp_path / "throttle-key").chmod(0o644)
    sqlite = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(SettingsError, match=r"^USERCORE_DATA_DIR: .*chmod 600"):
        open_throttle_secret(sqlite, None, None, tmp_path)
    with pytest.raises(SettingsError, match=r"^USERCORE_SIGNING_KEY_FILE: "):
        open_throttle_secret(sqlite, None, tmp_path / "signing-keys.json", tmp_path / "x")


def test_throttle_settings_have_defaults_and_bounds() -> None:
    settings = Settings.load(environ={"USERCORE_THROTTLE_URL": ""})
    assert (settings.login_free_failures, settings.login_max_delay_seconds) == (5, 900)
    assert settings.throttle_url is None
    for name, value in [
        ("LOGIN_FREE_FAILURES", "-1"),
        ("LOGIN_FREE_FAILURES", "101"),
        ("LOGIN_MAX_DELAY_SECONDS", "0"),
        ("THROTTLE_URL", "postgresql://db/x"),
    ]:
        with pytest.raises(SettingsError, match=rf"^USERCORE_{name}: "):
            Settings.load(environ={f"USERCORE_{name}": value})


@pytest.fixture
async def started() -> AsyncIterator[list[Container]]:
    containers: list[Container] = []
    yield containers
    for container in containers:
        await stop_resources(container)


async def _start(containers: list[Container], **settings: object) -> Container:
    container = build_container(Settings.load(settings, environ={}))
    await start_resources(container)
    containers.append(container)
    return container


async def test_the_container_throttles_with_the_configured_policy(
    started: list[Container],
) -> None:
    container = await _start(
        started, database_url="memory://", login_free_failures=1, login_max_delay_seconds=60
    )
    throttle = await resolve(container.login_throttle())
    assert isinstance(throttle, LoginThrottle)
    assert throttle.policy == ThrottlePolicy(free_failures=1, max_delay_seconds=60)
    assert isinstance(await resolve(container.throttle_store()), InMemoryThrottleStore)
    assert await throttle.record_failure(email="ada@example.com") == 1
    with pytest.raises(ThrottledError):
        await throttle.check(email="ADA@example.com")


async def test_the_database_keeps_the_counts_under_a_key_shared_by_restarts(
    tmp_path: Path, started: list[Container]
) -> None:
    settings = {"data_dir": tmp_path, "database_url": f"sqlite+aiosqlite:///{tmp_path / 'u.db'}"}
    first = await _start(started, **settings)
    assert isinstance(await resolve(first.throttle_store()), SqlAlchemyThrottleStore)
    throttle = await resolve(first.login_throttle())
    for _ in range(6):
        await throttle.record_failure(email="ada@example.com")
    await stop_resources(first)
    again = await resolve((await _start(started, **settings)).login_throttle())
    assert again.key_for("ada@example.com") == throttle.key_for("ada@example.com")
    with pytest.raises(ThrottledError):
        await again.check(email="ada@example.com")
    assert _mode(tmp_path / "throttle-key") == 0o600
