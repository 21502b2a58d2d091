"""Prometheus metrics for one app, on the app's own ``CollectorRegistry``.

Two apps in one process (tests) never share a counter. Store counts (live sessions,
created, expired, evicted) come from ``store.stats()`` through a collector: the handler
awaits the stats, hands them to the collector, and renders the registry. When the store
cannot answer, the collector keeps its last counts and ``beatdebate_store_up`` is 0.

Requests are counted by method, route *template* and status, so that 413s, 429s, 500s
and 503s show (issue 16). A response given before routing (413, a malformed
``X-Request-ID``'s 422, a 429) is labelled with the route its path matches; a path that
matches no route is ``unmatched``, never the raw path, which may hold a session id.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..store.base import StoreStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StoreCollector(Collector):
    def __init__(self) -> None:
        self.stats = StoreStats(live=0, created=0, expired=0, evicted=0)
        self.up = True

    def collect(self) -> Iterator[Metric]:
        stats = self.stats
        yield GaugeMetricFamily("beatdebate_store_up",
                                "1 when the session store answered the scrape, else 0.",
                                value=1 if self.up else 0)
        yield GaugeMetricFamily("beatdebate_sessions_live", "Live sessions in the store.",
                                value=stats.live)
        for name, value, what in (("created", stats.created, "created"),
                                  ("expired", stats.expired, "expired after their idle TTL"),
                                  ("evicted", stats.evicted, "evicted past max_sessions")):
            yield CounterMetricFamily(f"beatdebate_sessions_{name}",
                                      f"Sessions {what} since the store started.", value=value)


class Metrics:
    """The app's instruments. ``render`` answers ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._store = _StoreCollector()
        self.registry.register(self._store)
        self.request_seconds = Histogram(
            "beatdebate_request_duration_seconds",
            "Request latency by method, route template and status.",
            ("method", "route", "status"), buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.turns = Counter("beatdebate_turns", "Recorded turns by intent kind.", ("kind",),
                             registry=self.registry)
        self.fallbacks = Counter("beatdebate_fallback_answers",
                                 "Answers from the fallback path, by reason.", ("reason",),
                                 registry=self.registry)
        self._latency_children: dict[tuple[str, str, int], Histogram] = {}
        self._turn_children: dict[str, Counter] = {}

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        child = self._latency_children.get(key)
        if child is None:
            child = self._latency_children[key] = self.request_seconds.labels(
                method, route, str(status))
        child.observe(seconds)

    def turn(self, kind: str, fallback_reason: str | None) -> None:
        child = self._turn_children.get(kind)
        if child is None:
            child = self._turn_children[kind] = self.turns.labels(kind)
        child.inc()
        if fallback_reason is not None:
            self.fallbacks.labels(fallback_reason).inc()

    def render(self, stats: StoreStats | None) -> bytes:
        """The exposition; ``stats`` None: the store could not say (its last counts stay)."""
        self._store.up = stats is not None
        if stats is not None:
            self._store.stats = stats
        return generate_latest(self.registry)
