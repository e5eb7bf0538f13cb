"""The servers side by side: usercore, fastapi-users and the two floors.

Each target knows how to start its server and what each scenario's requests
look like on its API (``None`` where it has no such endpoint: fastapi-users
has no refresh tokens and no user listing; the floors do no auth).
"""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import call, in_parallel
from bench.database import ADMIN_EMAIL, PASSWORD, Postgres, bench_email
from bench.load import Shape
from bench.servers import VENV_BIN, Server, free_port, granian_command, running, uvicorn_command

from usercore.domain.ids import UserId
from usercore.domain.listing import encode_cursor

#: Users whose tokens the authenticated scenarios cycle through (spreads row locks).
TOKEN_USERS = 64
#: Live refresh-token chains per wrk run: more than its connections.
REFRESH_CHAINS = 48
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
_PAGE = 20


@dataclass(frozen=True)
class Setup:
    """What every server of one phase shares."""

    postgres: Postgres
    workers: int
    pool_size: int
    server: str  # "granian" (what `usercore serve` runs) or "uvicorn"
    data_dir: Path
    log_dir: Path
    usercore_env: tuple[tuple[str, str], ...] = ()  # extra env for usercore (experiments)


@dataclass
class Target:
    """One server under test."""

    name: str
    kind: str
    database: str | None = None
    ids: list[str] = field(default_factory=list)  # users spread over the table
    server: Server | None = None
    tokens: list[str] = field(default_factory=list)
    admin_token: str = ""

    @contextlib.contextmanager
    def run(self, setup: Setup) -> Iterator[Server]:
        """Start the server; stop it (and its workers) when the block ends."""
        port = free_port()
        command, env, ready = self._command(setup, port)
        with running(
            self.name, command, port=port, env=env, log_dir=setup.log_dir, ready_path=ready
        ) as server:
            self.server = server
            self._prepare()
            yield server

    def _command(self, setup: Setup, port: int) -> tuple[list[str], dict[str, str], str]:
        workers = setup.workers
        pool = str(setup.pool_size)
        if self.kind == "usercore":
            assert self.database is not None
            env = {
                # The same pool as the others: pool_size connections, no overflow.
                "USERCORE_DATABASE_URL": setup.postgres.sqlalchemy_url(self.database)
                + "?max_overflow=0",
                "USERCORE_DATA_DIR": str(setup.data_dir),
                "USERCORE_DB_POOL_SIZE": pool,
                # Tokens outlive the whole run, as fastapi-users' do.
                "USERCORE_ACCESS_TOKEN_TTL_SECONDS": "86400",
                **dict(setup.usercore_env),
            }
            if setup.server == "uvicorn":
                target = "usercore.entrypoints.http.asgi:app_from_environment"
                return uvicorn_command(target, port, workers), env, "/health/ready"
            usercore = str(VENV_BIN / "usercore")
            command = [usercore, "serve", "--port", str(port), "--workers", str(workers)]
            return command, env, "/health/ready"
        env = {"BENCH_POOL_SIZE": pool}
        if self.database is not None:
            env["BENCH_DSN"] = setup.postgres.dsn(self.database)
            env["BENCH_SQLALCHEMY_URL"] = setup.postgres.sqlalchemy_url(self.database)
        factory = {
            "fastapi-users": "bench.apps.fastapi_users_app:create_app",
            "bare": "bench.apps.floors:bare",
            "storage": "bench.apps.floors:storage",
        }[self.kind]
        serve = uvicorn_command if setup.server == "uvicorn" else granian_command
        return serve(factory, port, workers), env, "/health"

    def _prepare(self) -> None:
        if self.kind in ("usercore", "fastapi-users"):
            emails = [bench_email(number) for number in range(TOKEN_USERS)]
            self.tokens = in_parallel(lambda email: self._login(email)["access_token"], emails)
            self.admin_token = self._login(ADMIN_EMAIL)["access_token"]

    def _login(self, email: str) -> dict[str, str]:
        assert self.server is not None
        path = "/auth/token" if self.kind == "usercore" else "/auth/jwt/login"
        form = {"username": email, "password": PASSWORD}
        if self.kind == "usercore":
            form["grant_type"] = "password"
        answer: dict[str, str] = call(self.server.url + path, "POST", form=form)
        return answer

    def supports(self, scenario: str) -> bool:
        """Whether this target has an endpoint for ``scenario``."""
        return hasattr(self, self._builder(scenario))

    def shape(self, scenario: str) -> Shape | None:
        """The requests of ``scenario`` on this target, or None if it has no such endpoint."""
        builder = getattr(self, self._builder(scenario), None)
        return None if builder is None else builder()

    def _builder(self, scenario: str) -> str:
        return f"_{self.kind.replace('-', '_')}_{scenario}"

    # usercore -----------------------------------------------------------------

    def _bearer(self, token: str = "{v}") -> dict[str, str]:  # noqa: S107 - a template
        return {"Authorization": f"Bearer {token}"}

    def _usercore_get_me(self) -> Shape:
        return Shape("GET", "/users/me", self._bearer(), values=tuple(self.tokens))

    def _usercore_patch_me(self) -> Shape:
        headers = {**self._bearer(), "Content-Type": JSON}
        return Shape("PATCH", "/users/me", headers, '{"name": "bench {n}"}', tuple(self.tokens))

    def _usercore_get_by_id(self) -> Shape:
        return Shape("GET", "/users/{v}", self._bearer(self.admin_token), values=tuple(self.ids))

    def _usercore_list_page(self) -> Shape:
        cursors = tuple(encode_cursor(UserId(user_id)) for user_id in self.ids)
        path = f"/users?limit={_PAGE}&cursor={{v}}"
        return Shape("GET", path, self._bearer(self.admin_token), values=cursors)

    def _usercore_password_grant(self) -> Shape:
        body = f"grant_type=password&username={{v}}&password={PASSWORD}"
        return Shape("POST", "/auth/token", {"Content-Type": FORM}, body, _quoted_emails())

    def _usercore_refresh_grant(self) -> Shape:
        emails = [bench_email(number % TOKEN_USERS) for number in range(REFRESH_CHAINS)]
        fresh = in_parallel(lambda email: self._login(email)["refresh_token"], emails)
        body = "grant_type=refresh_token&refresh_token={v}"
        return Shape("POST", "/auth/token", {"Content-Type": FORM}, body, tuple(fresh), "refresh")

    def _usercore_register(self) -> Shape:
        body = f'{{"email": "reg{{n}}@example.com", "password": "{PASSWORD}"}}'
        return Shape("POST", "/users", {"Content-Type": JSON}, body)

    # fastapi-users ------------------------------------------------------------

    def _fastapi_users_get_me(self) -> Shape:
        return self._usercore_get_me()

    def _fastapi_users_patch_me(self) -> Shape:
        return self._usercore_patch_me()

    def _fastapi_users_get_by_id(self) -> Shape:
        return Shape("GET", "/users/{v}", self._bearer(self.admin_token), values=tuple(self.ids))

    def _fastapi_users_password_grant(self) -> Shape:
        body = f"username={{v}}&password={PASSWORD}"
        return Shape("POST", "/auth/jwt/login", {"Content-Type": FORM}, body, _quoted_emails())

    def _fastapi_users_register(self) -> Shape:
        body = f'{{"email": "reg{{n}}@example.com", "password": "{PASSWORD}"}}'
        return Shape("POST", "/auth/register", {"Content-Type": JSON}, body)

    # floors -------------------------------------------------------------------

    def _bare_get_me(self) -> Shape:
        return Shape("GET", "/")

    def _storage_get_me(self) -> Shape:
        # As many rows as there are token users: one primary-key SELECT each, no token.
        return Shape("GET", "/users/{v}", values=tuple(self.ids[:TOKEN_USERS]))

    def _storage_get_by_id(self) -> Shape:
        return Shape("GET", "/users/{v}", values=tuple(self.ids))

    def _storage_list_page(self) -> Shape:
        return Shape("GET", f"/users?limit={_PAGE}&cursor={{v}}", values=tuple(self.ids))


def _quoted_emails() -> tuple[str, ...]:
    return tuple(urllib.parse.quote(bench_email(n), safe="") for n in range(TOKEN_USERS))
