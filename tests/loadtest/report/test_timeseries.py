"""The run over time: buckets of requests, errors, users, arrivals, latency per kind, violations."""

from __future__ import annotations

import pytest

from loadtest.history import Expect, FaultWindow, Op
from loadtest.oracle.model import Anomaly, Verdict
from loadtest.report.timeseries import KindLatency, Violation, run_time_series, time_series, witness_id
from loadtest.result import RunResult


def _op(index: int, *, user: int, conversation: str, invoked: float, completed: float | None,
        action: str = "recommend", status: str = "ok", http_status: int | None = 200,
        follow_up: str | None = None, error: str | None = None) -> Op:
    return Op(index=index, user=user, conversation=conversation, scenario="s", step=f"step{index}",
              action=action, status=status, invoked_at=invoked, completed_at=completed,  # type: ignore[arg-type]
              request_id=f"r-{index}", http_status=http_status, follow_up=follow_up,
              expect=Expect(follow_up=follow_up), error=error)


# User 1 lives from 0.1 to 2.4 (two conversations); user 2 from 1.5 to 1.9; user 3 only in second 3.
OPS = [
    _op(0, user=1, conversation="u1.c1", invoked=0.1, completed=0.3),
    _op(1, user=1, conversation="u1.c1", invoked=0.4, completed=0.5, follow_up="more_tracks"),
    _op(2, user=2, conversation="u2.c1", invoked=1.5, completed=1.9),
    _op(3, user=1, conversation="u1.c2", invoked=2.0, completed=2.4, status="fail", http_status=503),
    _op(4, user=1, conversation="u1.c2", invoked=1.95, completed=None, status="unknown", http_status=None,
        error="timeout after 5s"),
    _op(5, user=3, conversation="u3.c1", invoked=3.2, completed=3.25, action="read_history"),
]


def test_buckets_count_requests_errors_users_and_arrivals_per_second() -> None:
    series = time_series(OPS, started_at=0.0)
    assert [b.t for b in series.buckets] == [0, 1, 2, 3]
    assert [b.requests for b in series.buckets] == [2, 2, 1, 1]   # op 4 never completed: counted where invoked (1)
    assert [b.errors for b in series.buckets] == [0, 1, 1, 0]
    assert [dict(b.error_kinds) for b in series.buckets] == [{}, {"timeout": 1}, {"http_503": 1}, {}]
    assert [b.users for b in series.buckets] == [1, 2, 1, 1]
    assert [b.arrivals for b in series.buckets] == [1, 2, 0, 1]   # u1.c2 begins at 1.95 (op 4), not 2.0
    assert sum(b.requests for b in series.buckets) == len(OPS)


def test_latency_per_kind_in_milliseconds_in_the_bucket_it_completed_in() -> None:
    series = time_series(OPS, started_at=0.0)
    first, second = series.buckets[0].latency_ms, series.buckets[1].latency_ms
    assert sorted(first) == ["first_query", "follow_up"]
    assert first["first_query"].count == 1
    assert first["first_query"].p99 == pytest.approx(200, rel=0.01)
    assert first["follow_up"].max == pytest.approx(100, rel=0.01)
    assert second == {"first_query": KindLatency(p50=pytest.approx(400, rel=0.01), p90=pytest.approx(400, rel=0.01),
                                                 p99=pytest.approx(400, rel=0.01), max=pytest.approx(400, rel=0.01),
                                                 count=1)}
    assert series.buckets[3].latency_ms["history_read"].count == 1


def test_started_at_shifts_the_buckets_and_a_wall_clock_start_is_refused() -> None:
    shifted = time_series(OPS, started_at=1.0)
    assert [b.requests for b in shifted.buckets] == [4, 1, 1]   # what ended before 2.0 (or before the start) is in 0
    with pytest.raises(ValueError, match="ops' clock"):
        time_series(OPS, started_at=1_796_000_000.0)
    with pytest.raises(ValueError, match="positive"):
        time_series(OPS, started_at=0.0, bucket=0)


def test_wider_buckets_and_until_extend_the_series() -> None:
    assert [b.requests for b in time_series(OPS, started_at=0.0, bucket=2.0).buckets] == [4, 2]
    quiet_end = time_series(OPS, started_at=0.0, until=6.0)
    assert [b.t for b in quiet_end.buckets] == [0, 1, 2, 3, 4, 5]
    assert quiet_end.buckets[5].requests == quiet_end.buckets[5].users == 0


def test_violations_are_placed_when_their_witness_completed_and_named_by_anchor() -> None:
    def anomaly(victim: tuple[int, ...], prop: str = "foreign-anchor") -> Anomaly:
        return Anomaly(property=prop, cls="bleeding", session="S", conversation="u1.c1", scenario="s", victim=victim)

    anomalies = {"foreign-anchor": [anomaly((1,)), anomaly((0, 3)), anomaly((2,))],
                 "missing-turn": [anomaly((5,), "missing-turn")]}
    series = time_series(OPS, started_at=0.0, anomalies=anomalies, witness_limit=2,
                         faults=[FaultWindow("abort", 1.0, 2.5, "cut 1 request")])
    assert series.violations == (
        Violation(0.5, "foreign-anchor", "bleeding", "s", "u1.c1", "witness-foreign-anchor-1"),
        Violation(2.4, "foreign-anchor", "bleeding", "s", "u1.c1", "witness-foreign-anchor-2"),
        Violation(3.25, "missing-turn", "bleeding", "s", "u1.c1", "witness-missing-turn-1"),
    )
    # The counts stay exact past the witness limit: the third foreign-anchor completed at 1.9.
    assert [b.violations for b in series.buckets] == [1, 1, 1, 1]
    assert witness_id("foreign-anchor", 0) == "witness-foreign-anchor-1"
    data = series.to_json()
    assert data["faults"] == [{"name": "abort", "start_s": 1.0, "end_s": 2.5, "detail": "cut 1 request"}]
    assert data["bucket_seconds"] == 1
    assert data["buckets"][1] == {"t": 1, "requests": 2, "errors": 1, "users": 2, "arrivals": 2, "violations": 1,
                                  "latency_ms": {"first_query": {"p50": pytest.approx(400, rel=0.01),
                                                                 "p90": pytest.approx(400, rel=0.01),
                                                                 "p99": pytest.approx(400, rel=0.01),
                                                                 "max": pytest.approx(400, rel=0.01), "count": 1}},
                                  "error_kinds": {"timeout": 1}}


def test_a_run_result_series_covers_its_seconds_of_load() -> None:
    result = RunResult(target="in-process", scenarios=("s",), settings={}, started_at=1_796_000_000.0,
                       elapsed=5.0, ops=OPS, verdict=Verdict(True, {}), latency={})
    series = run_time_series(result)
    assert len(series.buckets) == 5 and series.violations == ()
    assert time_series([], started_at=0.0).buckets == ()
