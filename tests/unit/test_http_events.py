"""The server delivers events in the background: hooks of its container, and its metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

from dependency_injector import providers
from litestar.testing import AsyncTestClient

from tests.unit.test_http_kit import PASSWORD, memory_container
from usercore.container import resolve
from usercore.domain.events import DomainEvent
from usercore.entrypoints.http.app import create_app
from usercore.entrypoints.http.metrics import HttpMetrics
from usercore.entrypoints.http.wiring import AppServices
from usercore.services import UserService
from usercore.services.hooks import hook_subscribers


async def test_the_server_delivers_to_the_containers_hooks_and_counts_it(tmp_path: Path) -> None:
    received: list[DomainEvent] = []
    container = memory_container(tmp_path)
    container.hooks.override(providers.Object(hook_subscribers({"*": received.append})))
    metrics = HttpMetrics()
    services = AppServices(container, metrics)
    await services.start()
    try:
        users: UserService = await resolve(container.user_service())
        user = await users.register(email="ada@example.com", password=PASSWORD)
        for _ in range(500):  # the dispatcher polls every second at most
            if received:
                break
            await asyncio.sleep(0.01)
        assert [(e.type, e.user_id) for e in received] == [("user.registered", user.id)]
        exposition = metrics.exposition().decode()
        assert 'usercore_event_deliveries_total{outcome="delivered",subscriber="hook:' in exposition
    finally:
        await services.stop()


async def test_create_app_takes_hooks_like_connect(tmp_path: Path) -> None:
    received: list[DomainEvent] = []
    container = memory_container(tmp_path)
    app = create_app(container, on={"user.registered": received.append})
    async with AsyncTestClient(app) as api:
        response = await api.post("/users", json={"email": "ada@example.com", "password": PASSWORD})
        assert response.status_code == 201
        for _ in range(500):
            if received:
                break
            await asyncio.sleep(0.01)
    assert [e.type for e in received] == ["user.registered"]
