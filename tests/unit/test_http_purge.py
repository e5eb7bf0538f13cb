"""The server purges ended sessions by itself, periodically, and stops doing so with the app."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.unit.test_http_kit import PASSWORD, memory_container
from usercore.container import resolve
from usercore.entrypoints.http.metrics import HttpMetrics
from usercore.entrypoints.http.wiring import AppServices
from usercore.ports.sessions import SessionRepository
from usercore.services import TokenService, UserService


async def test_the_server_purges_ended_sessions_periodically(tmp_path: Path) -> None:
    container = memory_container(tmp_path)
    services = AppServices(container, HttpMetrics(), purge_interval_seconds=0.01)
    await services.start()
    try:
        users: UserService = await resolve(container.user_service())
        tokens: TokenService = await resolve(container.token_service())
        repository: SessionRepository = await resolve(container.session_repository())
        user = await users.register(email="ada@example.com", password=PASSWORD)
        live = await tokens.issue(user)
        ended = await tokens.issue(user)
        await tokens.revoke(token=ended.refresh_token)
        for _ in range(500):  # the purge runs every 10 ms; give it up to 5 s
            stored = [s.id for s in await repository.list_for_user(user.id)]
            if len(stored) == 1:
                break
            await asyncio.sleep(0.01)
        assert stored == [live.refresh_token.partition(".")[0]]
    finally:
        await services.stop()
