"""create_app's app mounted inside another ASGI application."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar, asgi
from litestar.testing import AsyncTestClient
from litestar.types import Receive, Scope, Send

from tests.unit.test_http_kit import PASSWORD, memory_container
from usercore.entrypoints.http import create_app


async def test_works_mounted_under_a_prefix_without_its_own_lifespan(tmp_path: Path) -> None:
    inner = create_app(memory_container(tmp_path))

    @asgi("/accounts", is_mount=True, copy_scope=True)
    async def accounts(scope: Scope, receive: Receive, send: Send) -> None:
        await inner(scope, receive, send)

    async with AsyncTestClient(Litestar([accounts])) as client:
        created = await client.post(
            "/accounts/users", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert created.status_code == 201
        assert created.headers["location"] == f"/accounts/users/{created.json()['id']}"
        assert (await client.get("/accounts/health/ready")).status_code == 200
        missing = await client.get("/accounts/nope")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
