"""E2e fixtures: one real server per backend and test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.server import E2E_BACKENDS, Server, postgres_database, running_server


@pytest.fixture(
    scope="module",
    params=[*E2E_BACKENDS, pytest.param("postgres", marks=pytest.mark.postgres)],
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    if request.param != "postgres":
        with running_server(data_dir, request.param) as running:
            yield running
        return
    with (
        postgres_database() as url,
        running_server(data_dir, "postgres", database_url=url) as running,
    ):
        yield running


@pytest.fixture
def admin(server: Server) -> dict[str, str]:
    """The Authorization header of an admin (made by ``usercore users create --admin``)."""
    if not server.has_admin:
        pytest.skip("memory:// storage lives inside the server process: no CLI-made admin")
    return server.admin()
