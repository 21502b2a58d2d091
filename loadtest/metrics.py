"""The harness's own Prometheus metrics while it runs (``--metrics-port``), for Grafana.

A run already keeps its figures in ``LiveStats`` (requests, errors, latency histograms per
request kind, the checker's findings so far). ``HarnessCollector`` reads them when Prometheus
scrapes, in the exporter's thread: a request costs nothing more than it did, whatever the
scrape interval. A reader may see a figure one operation old, as the dashboard does.

Metrics (all ``beatdebate_harness_*``):

- ``requests_total``: every request recorded; ``requests_by_kind_total{kind}``: those that
  got an answer (or an HTTP error), by kind (``first_query``, ``follow_up``, ``history_read``,
  ``session_create``, ``session_delete``); a request cut off before any answer is only in
  ``requests_total`` and ``errors_total``.
- ``latency_seconds{kind,quantile}``: latency percentiles since the run began (0.5, 0.9, 0.99, 0.999).
- ``errors_total{kind}``: failed requests by ``http_<status>``, ``timeout`` or ``connection``.
- ``violations_total{property,class}``: the checker's findings so far, one series per
  registered property (0 until one is found), class ``bleeding`` or ``loss``.
- ``active_users``, ``iterations_total``, ``run_elapsed_seconds``, ``faults_in_force``.
- the exporter's ``process_*`` metrics (the harness's CPU and memory).

``serve_metrics`` listens on ``127.0.0.1`` unless told otherwise (``--metrics-port
0.0.0.0:9464`` to be scraped from another host or a container), for as long as the run.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from loadtest.errors import UsageError
from loadtest.latency import PERCENTILES
from loadtest.live import FAULT_IN_FORCE, LiveStats
from loadtest.oracle.properties import REGISTRY

PREFIX = "beatdebate_harness"
DEFAULT_HOST = "127.0.0.1"
_LISTEN = re.compile(r"^(?:(?P<host>\[[^\]]+\]|[^:]+):)?(?P<port>[0-9]{1,5})$")


class HarnessCollector(Collector):
    """The run's figures as Prometheus metrics, read from ``live`` at scrape time (module doc)."""

    def __init__(self, live: LiveStats) -> None:
        self._live = live

    def collect(self) -> Iterator[Metric]:
        live = self._live
        yield CounterMetricFamily(f"{PREFIX}_requests", "Requests recorded.", value=live.requests)
        latency = list(live.latency.items())   # one copy: the run may add a kind meanwhile
        by_kind = CounterMetricFamily(f"{PREFIX}_requests_by_kind", "Requests that got an answer or an "
                                      "HTTP error, by kind.", labels=["kind"])
        percentiles = GaugeMetricFamily(f"{PREFIX}_latency_seconds", "Latency percentiles since the run "
                                        "began, by request kind.", labels=["kind", "quantile"])
        for kind, histogram in sorted(latency):
            by_kind.add_metric([kind], histogram.count)
            for pct, seconds in histogram.percentiles(PERCENTILES).items():
                percentiles.add_metric([kind, f"{pct / 100:g}"], seconds)
        yield by_kind
        yield percentiles
        errors = CounterMetricFamily(f"{PREFIX}_errors", "Failed requests by kind of failure.", labels=["kind"])
        for kind, count in sorted(dict(live.errors).items()):
            errors.add_metric([kind], count)
        yield errors
        found = Counter(anomaly.property for anomaly in list(live.anomalies))
        violations = CounterMetricFamily(f"{PREFIX}_violations", "Isolation violations the checker has found "
                                         "so far, by property and class.", labels=["property", "class"])
        for name, prop in REGISTRY.items():
            violations.add_metric([name, prop.cls], found.pop(name, 0))
        for name, count in sorted(found.items()):   # a property the registry does not know (none today)
            violations.add_metric([name, "unknown"], count)
        yield violations
        yield GaugeMetricFamily(f"{PREFIX}_active_users", "Virtual users running now.", value=live.active_users)
        yield CounterMetricFamily(f"{PREFIX}_iterations", "Scenario iterations finished.",
                                  value=live.finished_iterations)
        running = live.phase in ("running", "checking", "done")
        yield GaugeMetricFamily(f"{PREFIX}_run_elapsed_seconds", "Seconds since the load began (0 before).",
                                value=live.elapsed if running else 0.0)
        yield GaugeMetricFamily(f"{PREFIX}_faults_in_force", "Nemesis faults in force now.",
                                value=sum(1 for fault in list(live.faults) if fault.detail == FAULT_IN_FORCE))


def parse_listen(text: str) -> tuple[str, int]:
    """``'9464'`` (on 127.0.0.1) or ``'HOST:9464'``: where to serve the metrics."""
    match = _LISTEN.match(text.strip())
    port = int(match["port"]) if match else -1
    if match is None or not 0 < port < 65536:
        raise UsageError(f"--metrics-port {text!r}: give a port (9464, served on {DEFAULT_HOST}) "
                         "or HOST:PORT (0.0.0.0:9464)")
    return (match["host"] or DEFAULT_HOST).strip("[]"), port


def registry_for(live: LiveStats) -> CollectorRegistry:
    """A registry of the run's metrics and the harness process's own (not the global one)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HarnessCollector(live))
    ProcessCollector(registry=registry)
    return registry


@contextlib.contextmanager
def serve_metrics(live: LiveStats, listen: str | None) -> Iterator[tuple[str, int] | None]:
    """Serve ``live``'s metrics at ``http://HOST:PORT/metrics`` for the block (``listen``:
    ``parse_listen``'s; None: serve nothing). A port that cannot be bound is a ``UsageError``
    before any load."""
    if listen is None:
        yield None
        return
    host, port = parse_listen(listen)
    try:
        server, thread = start_http_server(port, addr=host, registry=registry_for(live))
    except OSError as exc:
        raise UsageError(f"--metrics-port: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    try:
        yield host, port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


__all__ = ["DEFAULT_HOST", "PREFIX", "HarnessCollector", "parse_listen", "registry_for", "serve_metrics"]
