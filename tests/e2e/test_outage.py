"""A real database outage: PostgreSQL behind a proxy that cuts the line, under a real server."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.server import Server, bearer, environment, postgres_database, run_cli, running_server
from tests.e2e.test_accounts import problem
from tests.integration.sqlalchemy.proxy import FaultProxy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class ProxyThread:
    """A FaultProxy on an event loop of its own thread, driven from sync tests."""

    def __init__(self, target_port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = FaultProxy("127.0.0.1", target_port)
        self._run(self.proxy.start())

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def cut(self) -> None:
        self.loop.call_soon_threadsafe(self.proxy.reset)

    def restore(self) -> None:
        self.loop.call_soon_threadsafe(self.proxy.restore)

    def close(self) -> None:
        self._run(self.proxy.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def proxied_url(tmp_path: Path) -> Iterator[tuple[str, ProxyThread]]:
    with postgres_database() as url:
        migrated = run_cli("migrate", env=environment(tmp_path, "postgres", url))
        assert migrated.returncode == 0, migrated.stderr
        direct = sa.make_url(url)
        proxy = ProxyThread(direct.port or 5432)
        try:
            yield direct.set(port=proxy.proxy.port).render_as_string(hide_password=False), proxy
        finally:
            proxy.close()


def wait_until_ready(server: Server, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.client.get("/health/ready").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("storage did not come back")


def test_outage_answers_503_and_service_resumes(
    tmp_path: Path, proxied_url: tuple[str, ProxyThread]
) -> None:
    url, proxy = proxied_url
    with running_server(tmp_path, "postgres", database_url=url) as server:
        server.register("outage@example.com")
        auth = bearer(server.login("outage@example.com")["access_token"])
        proxy.cut()
        problem(server.client.get("/health/ready"), 503, "service-unavailable")
        problem(server.client.get("/users/me", headers=auth), 503, "service-unavailable")
        registration = {"email": "during@example.com", "password": "correct horse battery staple"}
        problem(server.client.post("/users", json=registration), 503, "service-unavailable")
        assert server.client.get("/health/live").status_code == 200
        proxy.restore()
        wait_until_ready(server)
        assert server.client.get("/users/me", headers=auth).status_code == 200


def test_starts_while_storage_is_down_and_recovers(
    tmp_path: Path, proxied_url: tuple[str, ProxyThread]
) -> None:
    url, proxy = proxied_url
    proxy.cut()
    with running_server(tmp_path, "postgres", database_url=url, prepare=False) as server:
        assert server.client.get("/health/live").status_code == 200
        problem(server.client.get("/health/ready"), 503, "service-unavailable")
        proxy.restore()
        wait_until_ready(server)
        server.register("after@example.com")
        assert (
            server.client.get(
                "/users/me", headers=bearer(server.login("after@example.com")["access_token"])
            ).status_code
            == 200
        )
