"""E2e fixtures: one real server per backend and test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import E2E_BACKENDS, Server, running_server


@pytest.fixture(scope="module", params=E2E_BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp(f"e2e-{request.param}"), request.param) as running:
        yield running


@pytest.fixture
def admin(server: Server) -> dict[str, str]:
    """The Authorization header of an admin (made by ``usercore users create --admin``)."""
    if not server.has_admin:
        pytest.skip("memory:// storage lives inside the server process: no CLI-made admin")
    return server.admin()
