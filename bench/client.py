"""A few blocking HTTP calls for setting up fixtures (tokens, ids) before the load starts."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def call(
    url: str,
    method: str = "GET",
    *,
    form: Mapping[str, str] | None = None,
    json_body: object = None,
    token: str | None = None,
) -> Any:
    """Send one request and return the decoded JSON answer; raises on any non-2xx."""
    headers = {"Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        body = response.read()
    return json.loads(body) if body else None


def in_parallel(function: Callable[[T], U], items: Iterable[T], threads: int = 8) -> list[U]:
    """``function`` over ``items`` on a few threads, results in order."""
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(function, items))
