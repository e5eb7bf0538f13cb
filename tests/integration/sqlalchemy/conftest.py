"""Fixtures of the SQL adapter's integration tests: one empty database per test, per dialect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.sqlalchemy.support import (
    empty_postgres,
    fresh_sqlite,
    postgres_url,
    sqlite_template,
)

__all__ = ["postgres_url", "sqlite_template"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: a SQLite file, or the run's PostgreSQL database."""
    if request.param == "sqlite":
        return fresh_sqlite(sqlite_template, tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(empty_postgres(url))
    return url
