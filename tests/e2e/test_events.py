"""Webhooks from real servers: nothing lost to a SIGKILL, once each from two servers."""

from __future__ import annotations

import base64
import json
import secrets
import signal
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
import standardwebhooks

from tests.e2e.server import environment, postgres_database, run_cli, running_server
from tests.webhook_receiver import Received, ThreadedReceiver

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

pytestmark = pytest.mark.slow


def _webhooks(receiver: ThreadedReceiver, **more: str) -> dict[str, str]:
    return {
        "USERCORE_WEBHOOK_URL": receiver.url,
        "USERCORE_WEBHOOK_SECRET": SECRET,
        "USERCORE_EVENT_LEASE_SECONDS": "2",
        **more,
    }


def _wait_for(receiver: ThreadedReceiver, count: int, seconds: float = 30) -> list[Received]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        received = [r for r in receiver.snapshot() if r.headers.get("webhook-id")]
        if len({r.headers["webhook-id"] for r in received}) >= count:
            return received
        time.sleep(0.05)
    raise AssertionError(f"{count} events expected, got {receiver.snapshot()}")


def _types(received: list[Received]) -> list[str]:
    bodies = [standardwebhooks.Webhook(SECRET).verify(r.body, r.headers) for r in received]
    return [body["type"] for body in bodies]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_an_event_committed_before_a_sigkill_is_delivered_by_the_next_server(
    tmp_path: Path, backend: str
) -> None:
    with ExitStack() as stack, ThreadedReceiver() as receiver:
        url = stack.enter_context(postgres_database()) if backend == "postgres" else None
        receiver.status = 503  # the receiver is down while the first server runs
        first = stack.enter_context(
            running_server(tmp_path, backend, database_url=url, extra_env=_webhooks(receiver))
        )
        user = first.register("ada@example.com")
        # It tried (and failed) at least once: the event was committed, and not delivered.
        _wait_for(receiver, 1)
        assert first.process is not None
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        receiver.status = 204
        stack.enter_context(
            running_server(
                tmp_path, backend, database_url=url, prepare=False, extra_env=_webhooks(receiver)
            )
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            accepted = [
                r
                for r in receiver.snapshot()
                if r.status == 204 and json.loads(r.body)["user_id"] == user["id"]
            ]
            if accepted:
                break
            time.sleep(0.05)
        [delivered] = accepted
        assert _types([delivered]) == ["user.registered"]


@pytest.mark.postgres
def test_two_servers_on_one_postgres_deliver_each_event_once(tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    with postgres_database() as url, ExitStack() as stack, ThreadedReceiver() as receiver:
        extra = _webhooks(receiver, USERCORE_SIGNING_KEY_FILE=str(tmp_path / "keys.json"))
        keys = run_cli("keys", "rotate", env={**environment(tmp_path, "postgres", url), **extra})
        assert keys.returncode == 0, keys.stderr
        servers = [
            stack.enter_context(
                running_server(
                    tmp_path / name,
                    "postgres",
                    database_url=url,
                    prepare=name == "first",
                    extra_env=extra,
                )
            )
            for name in ("first", "second")
        ]
        for index in range(20):
            servers[index % 2].register(f"user{index}@example.com")
        # The 20 registrations, and the admin's by `usercore users create`.
        received = _wait_for(receiver, 21)
        time.sleep(2)  # room for a duplicate to show up
        counts = Counter(r.headers["webhook-id"] for r in receiver.snapshot())
        assert len(counts) == 21
        assert set(counts.values()) == {1}, counts
        assert _types(received) == ["user.registered"] * 21
