"""Operations routes: liveness, readiness and Prometheus metrics (each left out of OpenAPI)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST

from usercore.entrypoints.http.openapi import problems
from usercore.entrypoints.http.schemas import Health
from usercore.entrypoints.http.wiring import AppServices

_OK = Health(status="ok")


class OperationsController(Controller):
    """Probes for orchestrators."""

    path = "/"
    include_in_schema = False

    @get("/health/live")
    async def live(self) -> Health:
        """200 while the process runs."""
        return _OK

    @get("/health/ready", responses=problems(503))
    async def ready(self, services: NamedDependency[AppServices]) -> Health:
        """200 when storage answers; a 503 problem when it does not."""
        repository = await services.repository()
        await repository.ping()
        return _OK


class MetricsController(Controller):
    """The Prometheus scrape on the API's listener (``USERCORE_METRICS``, no metrics port)."""

    path = "/"
    include_in_schema = False

    @get("/metrics")
    async def metrics(self, services: NamedDependency[AppServices]) -> Response[bytes]:
        """The Prometheus text exposition."""
        return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
