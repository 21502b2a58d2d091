"""Statistics of a run while it runs: the runner writes, the dashboard reads.

The runner calls ``record(op)`` as each operation completes and ``add_anomalies`` as the
incremental checker finds violations; the dashboard (a Rich renderable refreshed from
Rich's own thread) only reads. Plain counters under the GIL are enough: a reader may see a
figure one operation old, never a torn one.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from loadtest.history import FaultWindow, Op
from loadtest.latency import LatencyHistogram
from loadtest.oracle.model import Anomaly


def request_kind(op: Op) -> str:
    """The latency bucket of an operation: first_query, follow_up, history_read, session_create, session_delete."""
    if op.action == "recommend":
        return "follow_up" if op.follow_up is not None or op.expect.follow_up is not None else "first_query"
    return {
        "read_history": "history_read",
        "create_session": "session_create",
        "delete_session": "session_delete",
    }[op.action]


def error_kind(op: Op) -> str | None:
    """``None`` for an ok op; otherwise ``http_<status>``, ``timeout``, ``cancelled`` (in flight
    when the run stopped: the harness cut it, not the target) or ``connection``."""
    if op.status == "ok":
        return None
    if op.http_status is not None:
        return f"http_{op.http_status}"
    error = op.error or ""
    if op.status == "unknown" and error.startswith("timeout"):
        return "timeout"
    return "cancelled" if op.status == "unknown" and error.startswith("cancelled") else "connection"


FAULT_IN_FORCE = "in force"   # the detail of a fault window that has begun and not yet ended


@dataclass
class LiveStats:
    planned_duration: float | None = None   # seconds, when the run is time-bound
    planned_iterations: int | None = None   # scenario iterations, when the run is count-bound
    started: float = field(default_factory=time.monotonic)
    active_users: int = 0
    finished_iterations: int = 0
    requests: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latency: dict[str, LatencyHistogram] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    phase: str = "starting"                 # starting, preflight, running, checking, done
    # The nemesis's windows as they begin (detail ``FAULT_IN_FORCE`` until each ends).
    faults: list[FaultWindow] = field(default_factory=list)

    def record(self, op: Op) -> None:
        self.requests += 1
        kind = error_kind(op)
        if kind is not None:
            self.errors[kind] += 1
        if op.latency is not None:
            bucket = request_kind(op)
            histogram = self.latency.get(bucket)
            if histogram is None:
                # Not setdefault(bucket, LatencyHistogram()): that would build (and drop) a
                # histogram, a large zeroed counts array, on every record.
                histogram = self.latency[bucket] = LatencyHistogram()
            histogram.record(op.latency)

    def add_anomalies(self, found: Iterable[Anomaly]) -> None:
        self.anomalies.extend(found)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def requests_per_second(self) -> float:
        elapsed = self.elapsed
        return self.requests / elapsed if elapsed > 0 else 0.0
