"""Schemathesis against the live OpenAPI document: no 5xx, and every response conforms to it."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.result import Ok

from tests.e2e.server import E2E_BACKENDS, Server, bearer, running_server

#: Business rules (the password policy, the current password, special-use email domains)
#: rightly refuse some requests that the schema alone allows: 400 is correct there.
EXCLUDED_CHECKS = [schemathesis.checks.positive_data_acceptance]
#: Examples per operation: enough to reach every status code, bounded to keep CI quick.
MAX_EXAMPLES = 15


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # SQLite when available, so that a CLI-made admin reaches the admin-only operations too.
    backend = "sqlite" if "sqlite" in E2E_BACKENDS else "memory"
    with running_server(Path(tmp_path_factory.mktemp("schemathesis")), backend) as server:
        yield server


@pytest.fixture(scope="module")
def authorization(live: Server) -> dict[str, str]:
    if live.has_admin:
        return live.admin()
    _, headers = live.user_with_token("schemathesis@example.com")
    return headers


@pytest.mark.parametrize("with_token", [True, False], ids=["with-token", "without-token"])
def test_api_conforms_to_its_schema(
    live: Server, authorization: dict[str, str], with_token: bool
) -> None:
    # Driven through hypothesis directly: schemathesis' pytest plugin does not run on pytest 9.
    schema = schemathesis.openapi.from_url(f"{live.base_url}/schema/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) >= 11
    failures: dict[str, str] = {}
    unsatisfiable: list[str] = []
    # Positive data (what the schema allows) and negative data (what it forbids:
    # every such request must be refused with a 4xx, never coerced or a 5xx).
    for operation, mode in itertools.product(operations, schemathesis.GenerationMode):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def conforms(case: Any) -> None:
            headers = authorization if with_token else {}
            if (
                with_token
                and case.method in {"DELETE", "PUT"}
                and case.path.startswith("/users/me")
            ):
                # Deleting the account or changing its password would void the shared token.
                email = f"throwaway-{uuid.uuid4().hex[:12]}@example.com"
                live.register(email)
                headers = bearer(live.login(email)["access_token"])
            case.call_and_validate(
                base_url=live.base_url, headers=headers, excluded_checks=EXCLUDED_CHECKS
            )

        try:
            conforms()
        except Unsatisfiable:
            # Nothing in this operation can be made invalid (no parameters, no body).
            assert mode is schemathesis.GenerationMode.NEGATIVE
            unsatisfiable.append(f"{operation.method.upper()} {operation.path}")
        except BaseExceptionGroup as exc:  # schemathesis' FailureGroup: collect, then report
            failures[f"{operation.method.upper()} {operation.path} ({mode.value})"] = str(exc)[
                :2000
            ]
    # Negative data reached at least the operations that take a body or parameters.
    assert len(unsatisfiable) < len(operations) / 2, unsatisfiable
    assert not failures, "\n\n".join(f"{name}: {error}" for name, error in failures.items())
