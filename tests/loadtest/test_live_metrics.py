"""``--metrics-port``: the harness's own Prometheus metrics, read from ``LiveStats`` at scrape time.

The collector is judged on figures set by hand, then on real runs scraped while they run: on
a server with the ``shared-session`` defect the violation counters rise; on a clean one they
stay at zero while requests, latencies and users are served."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from loadtest.errors import UsageError
from loadtest.history import FaultWindow, Op
from loadtest.live import FAULT_IN_FORCE, LiveStats
from loadtest.metrics import parse_listen, registry_for, serve_metrics
from loadtest.oracle.model import Anomaly
from loadtest.oracle.properties import REGISTRY

BEATDEBATE = Path(sys.executable).with_name("beatdebate")
Samples = Mapping[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def _total(samples: Samples, name: str, **labels: str) -> float:
    return sum(value for (found, pairs), value in samples.items()
               if found == name and set(labels.items()) <= set(pairs))


def _op(index: int, *, action: str = "recommend", status: str = "ok", latency: float | None = 0.02,
        http_status: int | None = 200, follow_up: str | None = None) -> Op:
    return Op(index=index, user=0, conversation="u0.c0", scenario="s", step="x", action=action,  # type: ignore[arg-type]
              status=status, invoked_at=1.0, completed_at=None if latency is None else 1.0 + latency,  # type: ignore[arg-type]
              request_id=f"r{index}", http_status=http_status, follow_up=follow_up)


def _anomaly(prop: str) -> Anomaly:
    return Anomaly(property=prop, cls=REGISTRY[prop].cls, session=None, conversation="u0.c0", scenario="s",
                   victim=(0,))


def test_the_collector_reads_the_live_figures_when_scraped() -> None:
    live = LiveStats()
    registry = registry_for(live)
    before = _samples(generate_latest(registry).decode())
    assert _value(before, "beatdebate_harness_requests_total") == 0
    assert _total(before, "beatdebate_harness_violations_total") == 0
    assert len([k for k in before if k[0] == "beatdebate_harness_violations_total"]) == len(REGISTRY)

    for index in range(3):
        live.record(_op(index, latency=0.010 * (index + 1)))
    live.record(_op(3, follow_up="more_tracks", latency=0.5))
    live.record(_op(4, action="read_history", status="fail", http_status=503, latency=0.001))
    live.record(_op(5, status="unknown", http_status=None, latency=None))
    live.add_anomalies([_anomaly("foreign-anchor"), _anomaly("foreign-anchor"), _anomaly("missing-turn")])
    live.active_users, live.finished_iterations = 7, 11
    live.faults.append(FaultWindow("abort", 0.5, 0.5, FAULT_IN_FORCE))

    after = _samples(generate_latest(registry).decode())   # the same registry: read at scrape time
    assert _value(after, "beatdebate_harness_requests_total") == 6
    assert _value(after, "beatdebate_harness_requests_by_kind_total", kind="first_query") == 3
    assert _value(after, "beatdebate_harness_requests_by_kind_total", kind="follow_up") == 1
    assert _value(after, "beatdebate_harness_requests_by_kind_total", kind="history_read") == 1
    assert _value(after, "beatdebate_harness_latency_seconds", kind="first_query", quantile="0.5") == \
        pytest.approx(0.020, rel=0.01)
    assert _value(after, "beatdebate_harness_latency_seconds", kind="follow_up", quantile="0.99") == \
        pytest.approx(0.5, rel=0.01)
    assert _value(after, "beatdebate_harness_errors_total", kind="http_503") == 1
    assert _total(after, "beatdebate_harness_errors_total") == 2
    assert _value(after, "beatdebate_harness_violations_total", property="foreign-anchor", **{"class": "bleeding"}) == 2
    assert _value(after, "beatdebate_harness_violations_total", property="missing-turn", **{"class": "loss"}) == 1
    assert _total(after, "beatdebate_harness_violations_total", **{"class": "bleeding"}) == 2
    assert _value(after, "beatdebate_harness_active_users") == 7
    assert _value(after, "beatdebate_harness_iterations_total") == 11
    assert _value(after, "beatdebate_harness_faults_in_force") == 1
    assert _value(after, "process_resident_memory_bytes") > 0   # the harness's own process


@pytest.mark.parametrize(("text", "expected"), [
    ("9464", ("127.0.0.1", 9464)), ("0.0.0.0:9464", ("0.0.0.0", 9464)), ("[::1]:80", ("::1", 80)),
])
def test_the_metrics_listen_on_loopback_unless_a_host_is_given(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["", "port", "0", "70000", "host:", ":9464x"])
def test_a_bad_metrics_port_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="--metrics-port"):
        parse_listen(text)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_metrics_serves_while_the_block_runs_and_refuses_a_taken_port() -> None:
    live = LiveStats()
    live.record(_op(0))
    port = _free_port()
    with serve_metrics(live, str(port)) as serving:
        assert serving == ("127.0.0.1", port)
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert _value(_samples(text), "beatdebate_harness_requests_total") == 1
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}"), serve_metrics(live, str(port)):
            pass
    with pytest.raises(OSError):   # stopped with the block
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def _scrape_a_run(tmp_path: Path, *args: str) -> tuple[int, Samples, int]:
    """Run ``beatdebate simulate`` with ``--metrics-port`` and scrape it until it ends: the exit
    code, the last scrape taken while it ran, and how many scrapes answered."""
    port = _free_port()
    process = subprocess.Popen([str(BEATDEBATE), "simulate", "--metrics-port", str(port), "--quiet", "--think-time",
                                "0", "--users", "10", "--duration", "4s", "--seed", "3", *args,
                                "--json", str(tmp_path / "report.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last: Samples = {}
    scrapes = 0
    try:
        while process.poll() is None:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.1)   # not up yet, or already stopped
                continue
            last, scrapes = _samples(text), scrapes + 1
            time.sleep(0.25)
        return process.wait(timeout=60), last, scrapes
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_the_violation_metric_rises_on_a_leaky_server_and_stays_zero_on_a_clean_one(tmp_path: Path) -> None:
    code, leaky, scrapes = _scrape_a_run(tmp_path, "--defect", "shared-session")
    assert code == 1 and scrapes >= 3, (code, scrapes)
    assert _total(leaky, "beatdebate_harness_violations_total", **{"class": "bleeding"}) > 0
    assert _value(leaky, "beatdebate_harness_requests_total") > 0

    code, clean, scrapes = _scrape_a_run(tmp_path)
    assert code == 0 and scrapes >= 3, (code, scrapes)
    assert _total(clean, "beatdebate_harness_violations_total") == 0
    assert _value(clean, "beatdebate_harness_requests_total") > 100
    for kind in ("first_query", "follow_up"):
        assert _value(clean, "beatdebate_harness_requests_by_kind_total", kind=kind) > 0
        assert _value(clean, "beatdebate_harness_latency_seconds", kind=kind, quantile="0.99") > 0
    assert _total(clean, "beatdebate_harness_errors_total") == 0
    assert _value(clean, "beatdebate_harness_run_elapsed_seconds") > 0
