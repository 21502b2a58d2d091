"""A run over time: per-second buckets of its recorded operations, and when violations appeared.

Terms:
- *the ops' clock*: an ``Op``'s ``invoked_at`` and ``completed_at`` are monotonic seconds
  since the run's load started (``loadtest.history``), so a run's ``started_at`` on that
  clock is ``0.0``. It is not ``RunResult.started_at``, which is the wall-clock epoch.
- *bucket* ``t``: the ``bucket``-second interval ``[t·bucket, (t+1)·bucket)`` after the start.
  A request falls in the bucket it *completed* in (a throughput chart counts completions, as
  Locust's and k6's do); one that never completed (a timeout, a cut connection) falls in the
  bucket it was invoked in. Its latency (``Op.latency``) is summarised in the same bucket.
- *users*: virtual users alive in a bucket, a user being alive from its first op's
  ``invoked_at`` to its last op's ``completed_at`` (or ``invoked_at`` when that never
  completed); a user counts in every bucket that interval touches.
- *arrivals*: conversations begun in a bucket: the ``invoked_at`` of each
  ``Op.conversation``'s first op (one per scenario iteration, and one more per refresh inside
  it, which starts a new chat: ``loadtest.history``).
- *violation*: one anomaly, placed at the moment its witness was complete: the latest
  ``completed_at`` (else ``invoked_at``) of its victim ops. ``witness`` names its section in
  the reports (``witness_id``): the JSON report's ``anomalies[].witness``, the HTML report's
  anchor.

Request and error kinds are ``loadtest.live``'s (``request_kind``, ``error_kind``), latencies
are summarised with ``loadtest.latency.LatencyHistogram``, so that the series and the run's
summary percentiles are measured alike. Nothing here does I/O.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtest.history import FaultWindow, Op
from loadtest.latency import LatencyHistogram
from loadtest.live import error_kind, request_kind
from loadtest.oracle.model import Anomaly
from loadtest.result import RunResult

BUCKET_SECONDS = 1.0
WITNESS_LIMIT = 100          # violations listed per property (the buckets' counts stay exact)
LATENCY_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0)
_CLOCK_SLACK = 1.0           # seconds an op may seem to start before the run (clock rounding)


@dataclass(frozen=True, slots=True)
class KindLatency:
    """One request kind's latencies in one bucket, in milliseconds."""

    p50: float
    p90: float
    p99: float
    max: float
    count: int


@dataclass(frozen=True, slots=True)
class Bucket:
    t: int                                       # bucket number: seconds after the start, for 1 s buckets
    requests: int = 0                            # requests that completed (or were cut off) in it
    errors: int = 0                              # of those, the ones that did not succeed
    users: int = 0                               # virtual users alive in it
    arrivals: int = 0                            # conversations begun in it
    violations: int = 0                          # anomalies whose witness completed in it
    latency_ms: Mapping[str, KindLatency] = field(default_factory=dict)   # request kind -> latencies
    error_kinds: Mapping[str, int] = field(default_factory=dict)          # "http_503", "timeout" … -> count


@dataclass(frozen=True, slots=True)
class Violation:
    t: float                                     # seconds after the start (not bucketed)
    property: str
    cls: str                                     # "bleeding" or "loss"
    scenario: str
    conversation: str
    witness: str                                 # ``witness_id``: the anchor of its section


@dataclass(frozen=True, slots=True)
class TimeSeries:
    bucket_seconds: float
    buckets: tuple[Bucket, ...]
    violations: tuple[Violation, ...] = ()       # in time order, at most ``WITNESS_LIMIT`` per property
    faults: tuple[FaultWindow, ...] = ()         # the nemesis's windows (seconds after the start)

    def to_json(self) -> dict[str, Any]:
        """The ``time_series`` object of the JSON report (``docs/report-schema.md``)."""
        return {
            "bucket_seconds": _number(self.bucket_seconds),
            "buckets": [
                {"t": b.t, "requests": b.requests, "errors": b.errors, "users": b.users, "arrivals": b.arrivals,
                 "violations": b.violations,
                 "latency_ms": {kind: {"p50": k.p50, "p90": k.p90, "p99": k.p99, "max": k.max, "count": k.count}
                                for kind, k in sorted(b.latency_ms.items())},
                 "error_kinds": dict(sorted(b.error_kinds.items()))}
                for b in self.buckets
            ],
            "violations": [{"t": v.t, "property": v.property, "class": v.cls, "scenario": v.scenario,
                            "conversation": v.conversation, "witness": v.witness} for v in self.violations],
            "faults": [{"name": w.name, "start_s": w.start, "end_s": w.end, "detail": w.detail} for w in self.faults],
        }


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def witness_id(prop: str, position: int) -> str:
    """The anchor of a witness: the ``position``-th anomaly (from 0) of property ``prop`` in
    the verdict; the same in the JSON report, the time series and the HTML report."""
    return f"witness-{prop}-{position + 1}"


def _end(op: Op) -> float:
    return op.invoked_at if op.completed_at is None else op.completed_at


def _latencies(values: Sequence[float]) -> KindLatency:
    histogram = LatencyHistogram()
    for value in values:
        histogram.record(value)
    found = histogram.percentiles(LATENCY_PERCENTILES)
    return KindLatency(p50=found[50.0] * 1000, p90=found[90.0] * 1000, p99=found[99.0] * 1000,
                       max=histogram.max * 1000, count=histogram.count)


def time_series(
    ops: Iterable[Op],
    *,
    started_at: float,
    bucket: float = BUCKET_SECONDS,
    anomalies: Mapping[str, Sequence[Anomaly]] | None = None,
    faults: Sequence[FaultWindow] = (),
    until: float | None = None,
    witness_limit: int = WITNESS_LIMIT,
) -> TimeSeries:
    """The run's ``ops`` in ``bucket``-second buckets (module doc for every term).

    ``started_at`` is the run's start *on the ops' clock* (``0.0`` for a ``RunResult``'s ops);
    ``anomalies`` is the verdict's (``Verdict.anomalies``, property -> anomalies, in verdict
    order, which ``witness_id`` numbers); ``faults`` the nemesis's windows; ``until`` the
    seconds of load (``RunResult.elapsed``), so that quiet seconds at the end still show.
    Buckets run without a gap from 0 to the last one anything falls in. Raises ``ValueError``
    for a ``bucket`` that is not positive, or an op that begins well before ``started_at``
    (a wall-clock ``started_at`` given by mistake).
    """
    if not bucket > 0 or not math.isfinite(bucket):
        raise ValueError(f"bucket must be a positive number of seconds, not {bucket!r}")

    def slot(at: float) -> int:
        return max(0, int((at - started_at) // bucket))

    requests: dict[int, int] = defaultdict(int)
    errors: dict[int, int] = defaultdict(int)
    error_kinds: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    latencies: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    lifetimes: dict[int, list[float]] = {}          # user -> [first invoked_at, last end]
    conversations: dict[str, float] = {}            # conversation -> first invoked_at
    victims = {index for found in (anomalies or {}).values() for anomaly in found for index in anomaly.victim}
    ends: dict[int, float] = {}                     # a victim's Op.index -> its end, to place violations at
    for op in ops:
        if op.invoked_at < started_at - _CLOCK_SLACK:
            raise ValueError(f"op {op.index} was invoked at {op.invoked_at:.3f}, before started_at {started_at:.3f}: "
                             "started_at is on the ops' clock (0.0 for a run), not the wall clock")
        end = _end(op)
        if op.index in victims:
            ends[op.index] = end
        at = slot(end)
        requests[at] += 1
        kind = error_kind(op)
        if kind is not None:
            errors[at] += 1
            error_kinds[at][kind] += 1
        latency = op.latency
        if latency is not None:
            latencies[at][request_kind(op)].append(latency)
        life = lifetimes.get(op.user)
        if life is None:
            lifetimes[op.user] = [op.invoked_at, end]
        else:
            life[0] = min(life[0], op.invoked_at)
            life[1] = max(life[1], end)
        first = conversations.get(op.conversation)
        if first is None or op.invoked_at < first:
            conversations[op.conversation] = op.invoked_at

    violations: list[Violation] = []
    violation_counts: dict[int, int] = defaultdict(int)
    for prop, found in sorted((anomalies or {}).items()):
        for position, anomaly in enumerate(found):
            times = [ends[i] for i in anomaly.victim if i in ends]
            if not times:          # its ops are not in this history (never expected): no time to place it at
                continue
            when = max(times)
            violation_counts[slot(when)] += 1
            if position < witness_limit:
                violations.append(Violation(t=max(0.0, when - started_at), property=prop, cls=anomaly.cls,
                                            scenario=anomaly.scenario, conversation=anomaly.conversation,
                                            witness=witness_id(prop, position)))
    violations.sort(key=lambda v: (v.t, v.property, v.witness))

    last = max([*requests, *violation_counts, *(slot(life[1]) for life in lifetimes.values()),
                *(slot(w.end) for w in faults),
                *([slot(started_at + until) - (1 if until > 0 and (until / bucket).is_integer() else 0)]
                  if until is not None else [])], default=-1)
    alive = [0] * (last + 2)
    for first_at, end in lifetimes.values():    # a difference array: +1 where a life begins, -1 after it ends
        alive[slot(first_at)] += 1
        alive[slot(end) + 1] -= 1
    arrivals: dict[int, int] = defaultdict(int)
    for first_at in conversations.values():
        arrivals[slot(first_at)] += 1

    buckets: list[Bucket] = []
    users = 0
    for t in range(last + 1):
        users += alive[t]
        buckets.append(Bucket(
            t=t, requests=requests.get(t, 0), errors=errors.get(t, 0), users=users, arrivals=arrivals.get(t, 0),
            violations=violation_counts.get(t, 0),
            latency_ms={kind: _latencies(values) for kind, values in sorted(latencies[t].items())}
            if t in latencies else {},
            error_kinds=dict(error_kinds[t]) if t in error_kinds else {}))
    return TimeSeries(bucket_seconds=bucket, buckets=tuple(buckets), violations=tuple(violations),
                      faults=tuple(FaultWindow(w.name, w.start - started_at, w.end - started_at, w.detail)
                                   for w in faults))


def run_time_series(result: RunResult, *, bucket: float = BUCKET_SECONDS,
                    witness_limit: int = WITNESS_LIMIT) -> TimeSeries:
    """``time_series`` of a whole run: its ops, verdict, fault windows and seconds of load.
    A history re-checked offline (``beatdebate check``) keeps its recorded clock, which also
    starts at 0.0."""
    return time_series(result.ops, started_at=0.0, bucket=bucket, anomalies=result.verdict.anomalies,
                       faults=result.faults, until=result.elapsed if result.elapsed > 0 else None,
                       witness_limit=witness_limit)


__all__ = ["BUCKET_SECONDS", "WITNESS_LIMIT", "Bucket", "KindLatency", "TimeSeries", "Violation",
           "run_time_series", "time_series", "witness_id"]
