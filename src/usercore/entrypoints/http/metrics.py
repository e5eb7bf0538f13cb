"""Prometheus metrics of the HTTP server: requests, latencies, logins, security events, events."""

from __future__ import annotations

import logging
import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from usercore.services.security import SecurityEvent

#: Set by ``usercore serve`` with several workers, so /metrics adds up all of them.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class HttpMetrics:
    """The metrics of one app, in a registry of its own (several apps may share a process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "usercore_http_requests_total",
            "HTTP requests answered, by method, route template and status.",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.duration = Histogram(
            "usercore_http_request_duration_seconds",
            "Time to answer an HTTP request, by method, route template and status.",
            ("method", "route", "status"),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.logins = Counter(
            "usercore_logins_total",
            "Password logins, by outcome (success, failure).",
            ("outcome",),
            registry=self.registry,
        )
        for outcome in ("success", "failure"):
            self.logins.labels(outcome=outcome)
        self.security_events = Counter(
            "usercore_security_events_total",
            "Security events (failed logins, throttling, token reuse, revocations, ...), by event.",
            ("event",),
            registry=self.registry,
        )
        for event in SecurityEvent:
            self.security_events.labels(event=event.value)
        self.event_deliveries = Counter(
            "usercore_event_deliveries_total",
            "Event delivery attempts, by subscriber and outcome (delivered, failed, parked).",
            ("subscriber", "outcome"),
            registry=self.registry,
        )
        # The labelled children of each (method, route, status), found once.
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        # Any text can be a method: only the standard ones get a label of their
        # own, and the cache is keyed by the label, so made-up methods can't grow it.
        label = method if method in _METHODS else "other"
        key = (label, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(label, route, str(status)),
                self.duration.labels(label, route, str(status)),
            )
        children[0].inc()
        children[1].observe(seconds)

    def login(self, *, success: bool) -> None:
        """Count one password login attempt."""
        self.logins.labels("success" if success else "failure").inc()

    def delivered(self, subscriber: str) -> None:
        """Count one event delivered to ``subscriber``."""
        self.event_deliveries.labels(subscriber, "delivered").inc()

    def failed(self, subscriber: str) -> None:
        """Count one failed delivery attempt."""
        self.event_deliveries.labels(subscriber, "failed").inc()

    def parked(self, subscriber: str) -> None:
        """Count one event given up on (``usercore events failed`` lists it)."""
        self.event_deliveries.labels(subscriber, "parked").inc()

    def count_security_events(self) -> logging.Handler:
        """A logging handler that counts each security event line; attach it to their logger."""
        return _SecurityEventCounter(self.security_events)

    def exposition(self) -> bytes:
        """The Prometheus text exposition of every worker (or of this process)."""
        if os.environ.get(MULTIPROCESS_ENV):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class _SecurityEventCounter(logging.Handler):
    def __init__(self, counter: Counter) -> None:
        super().__init__(logging.INFO)
        self._counter = counter

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", None)
        if isinstance(event, str) and event in _EVENTS:
            self._counter.labels(event=event).inc()


_EVENTS = frozenset(event.value for event in SecurityEvent)
