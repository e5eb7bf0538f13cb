"""Two ``usercore serve`` processes on one store share the login throttle: failures add up.

On PostgreSQL (the counts in the database, the default) and on Redis
(``USERCORE_THROTTLE_URL``); both servers read one throttle key, kept beside
their shared signing keys.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.server import (
    PASSWORD,
    Server,
    environment,
    postgres_database,
    run_cli,
    running_server,
)
from tests.integration.redis.support import REDIS_URL, require_redis


def _login(server: Server, email: str, password: str) -> tuple[int, str | None]:
    response = server.client.post(
        "/auth/token", data={"grant_type": "password", "username": email, "password": password}
    )
    return response.status_code, response.headers.get("retry-after")


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("store", ["postgres", "redis"])
def test_failures_on_one_server_count_on_the_other(tmp_path: Path, store: str) -> None:
    extra_env = {"USERCORE_SIGNING_KEY_FILE": str(tmp_path / "signing-keys.json")}
    if store == "redis":
        require_redis()
        extra_env["USERCORE_THROTTLE_URL"] = REDIS_URL
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    with postgres_database() as url, ExitStack() as stack:
        keys = run_cli(
            "keys", "rotate", env={**environment(tmp_path, "postgres", url), **extra_env}
        )
        assert keys.returncode == 0, keys.stderr
        first, second = (
            stack.enter_context(
                running_server(
                    tmp_path / name,
                    "postgres",
                    database_url=url,
                    prepare=name == "first",
                    extra_env=extra_env,
                )
            )
            for name in ("first", "second")
        )
        first.register("ada@example.com")
        # Five free failures, spread over both servers.
        for server in (first, second, first, second, first):
            assert _login(server, "ada@example.com", "a wrong guess") == (400, None)
        # The sixth attempt, on either server, must wait; even the right password.
        assert _login(second, "ada@example.com", PASSWORD) == (429, "1")
        assert _login(first, "nobody@example.com", "a wrong guess") == (400, None)
