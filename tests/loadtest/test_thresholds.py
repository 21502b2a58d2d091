"""Thresholds: parsing (k6's manner, errors never ignored) and evaluation on a hand-made run."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadtest.coverage import ScenarioCoverage
from loadtest.history import Expect, Op
from loadtest.latency import LatencyHistogram
from loadtest.oracle.model import Checked, Verdict
from loadtest.result import RunResult
from loadtest.thresholds import (
    Threshold, ThresholdError, evaluate, parse_threshold, parse_thresholds, with_defaults,
)


@pytest.mark.parametrize(
    ("text", "metric", "kind", "op", "limit"),
    [
        ("p99<250ms", "p99", None, "<", 0.25),
        ("p95<=0.3s", "p95", None, "<=", 0.3),
        ("p99.9<1s", "p99.9", None, "<", 1.0),
        ("p(95)<200", "p95", None, "<", 0.2),            # k6 spelling; bare latency = ms
        ("p99<1us", "p99", None, "<", 1e-6),
        ("max < 2 s", "max", None, "<", 2.0),
        ("med<50ms", "med", None, "<", 0.05),
        ("avg<=100ms", "avg", None, "<=", 0.1),
        ("errors<1%", "errors", None, "<", 0.01),
        ("errors<=0.05", "errors", None, "<=", 0.05),
        ("rps>100", "rps", None, ">", 100.0),
        ("rps>=50/s", "rps", None, ">=", 50.0),
        ("requests>1000", "requests", None, ">", 1000.0),
        ("follow_up.p99<300ms", "p99", "follow_up", "<", 0.3),
        ("history_read.errors<0.5%", "errors", "history_read", "<", 0.005),
    ],
)
def test_parse_accepts(text: str, metric: str, kind: str | None, op: str, limit: float) -> None:
    parsed = parse_threshold(text)
    assert (parsed.metric, parsed.kind, parsed.op) == (metric, kind, op)
    assert parsed.limit == pytest.approx(limit)
    assert parsed.text == text.strip()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "not an expression"),
        ("p99", "not an expression"),
        ("p99<", "not an expression"),
        ("p99<fast", "not an expression"),
        ("latency<5ms", "unknown metric 'latency'"),
        ("p99x<5ms", "unknown metric"),
        ("p0<5ms", "outside (0, 100]"),
        ("p101<5ms", "outside (0, 100]"),
        ("p99<5parsecs", "not a duration"),
        ("p99<5%", "not a duration"),
        ("errors<5ms", "does not fit a rate"),
        ("errors<5", "a fraction from 0 to 1"),
        ("errors<150%", "a fraction from 0 to 1"),
        ("rps>100ms", "does not fit throughput"),
        ("checkout.p99<1s", "unknown request kind 'checkout'"),
        ("p99==1s", "not one of <, <=, >, >="),
        ("p99<1s and p95<1s", "not an expression"),
    ],
)
def test_parse_rejects_with_a_reason(text: str, why: str) -> None:
    with pytest.raises(ThresholdError, match="bad threshold") as caught:
        parse_threshold(text)
    assert why in str(caught.value)


def _op(index: int, *, kind: str, latency: float, status: str = "ok") -> Op:
    follow_up = "more_tracks" if kind == "follow_up" else None
    return Op(index=index, user=index % 3, conversation=f"u{index % 3}.c1", scenario="s", step=kind,
              action="recommend", status=status, invoked_at=float(index), completed_at=index + latency,  # type: ignore[arg-type]
              request_id=f"r{index}", follow_up=follow_up, expect=Expect(follow_up=follow_up))


def _result() -> RunResult:
    # 10 first queries at 10..100 ms, 10 follow-ups at 200 ms (two of them failed): 20 ops in 2 s.
    ops = [_op(i, kind="first_query", latency=0.01 * (i + 1)) for i in range(10)]
    ops += [_op(10 + i, kind="follow_up", latency=0.2, status="fail" if i < 2 else "ok") for i in range(10)]
    latency: dict[str, LatencyHistogram] = {}
    for op in ops:
        kind = "follow_up" if op.follow_up else "first_query"
        latency.setdefault(kind, LatencyHistogram()).record(op.latency or 0.0)
    return RunResult(target="http://test", scenarios=("s",), settings={}, started_at=0.0, elapsed=2.0,
                     ops=ops, verdict=Verdict(True, {}, Checked(operations=20)), latency=latency,
                     errors={"http_503": 2})


def _judge(*texts: str) -> list[tuple[str, float | None, bool]]:
    return [(r.threshold.text, r.observed, r.passed) for r in evaluate([parse_threshold(t) for t in texts], _result())]


def test_evaluate_latency_overall_and_by_kind() -> None:
    judged = _judge("p50<150ms", "max<100ms", "first_query.max<=101ms", "follow_up.p99<199ms", "first_query.avg<60ms")
    (t1, p50, ok1), (_, mx, ok2), (_, fq_max, ok3), (_, fu_p99, ok4), (_, avg, ok5) = judged
    assert p50 == pytest.approx(0.1, rel=0.01) and ok1
    assert mx == pytest.approx(0.2, rel=0.01) and not ok2
    assert fq_max == pytest.approx(0.1, rel=0.01) and ok3
    assert fu_p99 == pytest.approx(0.2, rel=0.01) and not ok4
    assert avg == pytest.approx(0.055) and ok5


def test_evaluate_errors_rps_requests() -> None:
    assert _judge("errors<5%", "errors<=10%", "follow_up.errors<=20%", "rps>=10", "rps>10", "requests>=20") == [
        ("errors<5%", pytest.approx(0.1), False),
        ("errors<=10%", pytest.approx(0.1), True),
        ("follow_up.errors<=20%", pytest.approx(0.2), True),
        ("rps>=10", pytest.approx(10.0), True),
        ("rps>10", pytest.approx(10.0), False),
        ("requests>=20", 20.0, True),
    ]


def test_a_threshold_with_nothing_to_measure_fails() -> None:
    (judged,) = evaluate([parse_threshold("history_read.p99<1s")], _result())
    assert judged.observed is None
    assert not judged.passed
    assert judged.note == "no samples to measure"
    assert judged.observed_text == "n/a"


def test_threshold_is_a_frozen_record() -> None:
    parsed = parse_threshold("p99<250ms")
    assert parsed == Threshold(text="p99<250ms", metric="p99", family="latency", op="<", limit=0.25,
                               kind=None, percentile=99.0)
    assert parsed.holds(0.2499) and not parsed.holds(0.25)


def _covered(**coverage: ScenarioCoverage) -> RunResult:
    return replace(_result(), coverage=coverage)


def test_coverage_parses_as_a_share_and_takes_no_request_kind() -> None:
    parsed = parse_threshold("coverage>=90%")
    assert (parsed.metric, parsed.family, parsed.op, parsed.limit, parsed.kind) == ("coverage", "rate", ">=", 0.9, None)
    assert parse_threshold("coverage>0.5").limit == 0.5
    with pytest.raises(ThresholdError, match="judged per scenario, not per request kind"):
        parse_threshold("follow_up.coverage>=90%")
    with pytest.raises(ThresholdError, match="from 0 to 1"):
        parse_threshold("coverage>=120%")


def test_coverage_is_judged_on_the_lowest_scenario() -> None:
    result = _covered(a=ScenarioCoverage("a", 4, completed=10, planned=40, checked=40),
                      b=ScenarioCoverage("b", 5, completed=8, failed=2, planned=50, checked=44))
    low, high = evaluate([parse_threshold("coverage>=90%"), parse_threshold("coverage>=0.95")], result)
    assert (low.observed, low.passed, high.passed) == (pytest.approx(0.88), False, False)
    assert low.note == "lowest: b, 44 of 50 planned follow-ups"
    assert low.observed_text == "88%"
    (relaxed,) = evaluate([parse_threshold("coverage>=0%")], result)
    assert relaxed.passed


def test_coverage_without_a_follow_up_planned_anywhere_is_not_applicable_and_holds() -> None:
    (judged,) = evaluate([parse_threshold("coverage>=90%")], _covered(plain=ScenarioCoverage("plain", 0, completed=3)))
    assert (judged.observed, judged.passed) == (None, True)
    assert judged.note.startswith("not applicable")


def test_coverage_with_nothing_measured_fails() -> None:
    # No coverage counted at all (a history judged offline), or every conversation cut.
    for result in (_result(), _covered(a=ScenarioCoverage("a", 4, cut=3))):
        (judged,) = evaluate([parse_threshold("coverage>=90%")], result)
        assert (judged.observed, judged.passed) == (None, False)
        assert judged.note.startswith("no samples")


def test_a_given_threshold_replaces_the_default_on_its_metric_only() -> None:
    defaults = parse_thresholds(["errors<1%", "coverage>=90%"], origin="default")
    assert [t.origin for t in defaults] == ["default", "default"]
    given = parse_thresholds(["errors<70%", "p99<1s"])
    assert [(t.text, t.origin) for t in with_defaults(given, defaults)] == [
        ("errors<70%", "given"), ("p99<1s", "given"), ("coverage>=90%", "default")]
    # Scoped or not, a threshold on the metric replaces the default: the caller has spoken on it.
    assert [t.text for t in with_defaults(parse_thresholds(["follow_up.errors<5%"]), defaults)] == [
        "follow_up.errors<5%", "coverage>=90%"]
    assert with_defaults((), defaults) == defaults


def test_coverage_names_a_scenario_it_could_not_measure() -> None:
    result = _covered(a=ScenarioCoverage("a", 4, completed=10, planned=40, checked=40),
                      cut=ScenarioCoverage("cut", 2, cut=3))
    (judged,) = evaluate([parse_threshold("coverage>=90%")], result)
    assert (judged.observed, judged.passed) == (1.0, True)
    assert judged.note == "lowest: a, 40 of 40 planned follow-ups; not measured (no conversation ended): cut"
