"""Pass/fail criteria on a run's measurements, written the way k6 writes them.

Terms:
- *threshold*: one expression such as ``p99<250ms``, ``p95<=0.3s``, ``errors<1%``,
  ``rps>100`` or ``p99.9<1s``, optionally scoped to one request kind:
  ``follow_up.p99<300ms``. ``parse_threshold`` turns the text into a ``Threshold`` or raises
  ``ThresholdError``: an unknown metric, kind, unit or a malformed expression is a usage
  error, never silently ignored.
- *metric*: ``pN`` (any percentile, ``p(N)`` also accepted), ``med``, ``avg``, ``min``,
  ``max`` (latencies), ``errors`` (the share of requests that did not succeed), ``rps``
  (completed requests per second of load), ``requests`` (a count) and ``coverage`` (the share
  of planned follow-ups that were checked, scenario by scenario: ``loadtest.coverage``).
- *limit*: stored in canonical units: seconds for latencies (written in the one duration
  grammar of ``loadtest.units``, where a bare number means milliseconds, as in k6), a
  fraction for ``errors`` and ``coverage`` (``1%`` or ``0.01``), requests per second for ``rps``.
- *origin*: ``given`` (by the caller) or ``default`` (the gate's own, ``defaults.GATE_THRESHOLDS``).
  ``with_defaults(given, defaults)`` keeps each default unless a given threshold names the
  same metric (whatever its request-kind scope): the caller's word replaces it, so
  ``errors<=100%`` turns the default error threshold off, and ``coverage>=0%`` the coverage one.

``evaluate(thresholds, result)`` judges each threshold against a ``RunResult``. A threshold
whose metric has no samples (``follow_up.p99`` in a run without follow-ups) fails: a
criterion that could not be checked must not pass. ``coverage`` is judged on the scenario
with the lowest share, so that it holds only when every scenario reached its follow-ups (a
scenario none of whose conversations completed or failed has no share: the note names it,
and with no share anywhere the threshold fails); a run none of whose scenarios plans a
follow-up has nothing to cover, and the threshold holds as "not applicable".
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from loadtest.coverage import lowest
from loadtest.errors import UsageError
from loadtest.history import Op
from loadtest.latency import LatencyHistogram
from loadtest.live import request_kind
from loadtest.result import RunResult
from loadtest.units import NUMBER, DurationError, to_seconds

Comparison = Literal["<", "<=", ">", ">="]
MetricFamily = Literal["latency", "rate", "throughput", "count"]
Origin = Literal["given", "default"]

REQUEST_KINDS: tuple[str, ...] = (
    "first_query", "follow_up", "history_read", "session_create", "session_delete",
)
_NAMED_METRICS: dict[str, MetricFamily] = {
    "med": "latency", "avg": "latency", "min": "latency", "max": "latency",
    "errors": "rate", "coverage": "rate", "rps": "throughput", "requests": "count",
}
_UNSCOPED = ("coverage",)   # metrics of whole conversations: no request kind scope
_COMPARE: dict[Comparison, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_COMPARISONS: dict[str, Comparison] = {op: op for op in _COMPARE}   # the text, as the Literal

_EXPRESSION = re.compile(
    rf"""^\s*
    (?:(?P<kind>[A-Za-z_][A-Za-z0-9_]*)\.(?=[a-z]))?     # optional request kind scope
    (?P<metric>p\(\s*[0-9.]+\s*\)|[A-Za-z_][A-Za-z0-9_.]*)  # metric
    \s*(?P<op><=|>=|<|>|==|!=|=)\s*
    (?P<number>{NUMBER})                                  # limit
    \s*(?P<unit>[A-Za-zµ%/]+)?\s*$""",
    re.VERBOSE,
)


class ThresholdError(UsageError):
    """A threshold that cannot be understood; the message says why and what is accepted."""


@dataclass(frozen=True, slots=True)
class Threshold:
    text: str                       # as the user wrote it (trimmed)
    metric: str                     # "p99", "p99.9", "med", "avg", "min", "max", "errors", "rps", "requests"
    family: MetricFamily
    op: Comparison
    limit: float                    # canonical units (see module doc)
    kind: str | None = None         # request kind scope, or None for every request
    percentile: float | None = None # for pN metrics
    origin: Origin = "given"        # the caller's, or one of the gate's defaults

    def holds(self, observed: float) -> bool:
        return _COMPARE[self.op](observed, self.limit)


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    threshold: Threshold
    observed: float | None          # canonical units; None when there was nothing to measure
    passed: bool
    note: str = ""                  # what the observation was made on, or why there was none ("no samples")

    @property
    def observed_text(self) -> str:
        return "n/a" if self.observed is None else format_value(self.threshold.family, self.observed)


def format_value(family: MetricFamily, value: float) -> str:
    """A measurement in the unit a reader expects: ms for latencies, % for errors, /s for rps."""
    if family == "latency":
        ms = value * 1000
        return f"{ms:.3g}ms" if ms < 100 else f"{ms:.0f}ms"
    if family == "rate":
        return f"{value * 100:.3g}%"
    if family == "throughput":
        return f"{value:.1f}/s"
    return f"{value:.0f}"


def _fail(text: str, why: str) -> ThresholdError:
    return ThresholdError(
        f"bad threshold {text!r}: {why}. Write [kind.]metric<op>value, e.g. 'p99<250ms', "
        f"'follow_up.p95<=0.3s', 'errors<1%', 'coverage>=90%', 'rps>100'; metrics: pN, med, avg, min, max, "
        f"errors, coverage, rps, requests; kinds: {', '.join(REQUEST_KINDS)}")


def _metric(text: str, raw: str) -> tuple[str, MetricFamily, float | None]:
    if raw.startswith("p") and raw not in _NAMED_METRICS:
        digits = raw[1:].strip("()").strip()
        try:
            pct = float(digits)
        except ValueError:
            raise _fail(text, f"unknown metric {raw!r}") from None
        if not 0 < pct <= 100:
            raise _fail(text, f"percentile {digits} is outside (0, 100]")
        return f"p{pct:g}", "latency", pct
    if raw not in _NAMED_METRICS:
        raise _fail(text, f"unknown metric {raw!r}")
    return raw, _NAMED_METRICS[raw], None


def _limit(text: str, family: MetricFamily, number: float, unit: str | None) -> float:
    if family == "latency":
        try:
            return to_seconds(number, unit, bare="ms")   # k6: a bare latency limit is in milliseconds
        except DurationError as exc:
            raise _fail(text, str(exc)) from None
    if family == "rate":
        if unit == "%":
            number /= 100
        elif unit is not None:
            raise _fail(text, f"unit {unit!r} does not fit a rate (use % or a fraction)")
        if not 0 <= number <= 1:
            raise _fail(text, "a share (errors, coverage) is a percentage (1%) or a fraction from 0 to 1")
        return number
    if unit is not None and not (family == "throughput" and unit == "/s"):
        raise _fail(text, f"unit {unit!r} does not fit {family}")
    return number


def parse_threshold(text: str) -> Threshold:
    """Parse one threshold expression; raises ``ThresholdError`` when it cannot."""
    match = _EXPRESSION.match(text)
    if match is None:
        raise _fail(text, "not an expression")
    kind = match["kind"]
    if kind is not None and kind not in REQUEST_KINDS:
        raise _fail(text, f"unknown request kind {kind!r}")
    metric, family, pct = _metric(text, match["metric"])
    if kind is not None and metric in _UNSCOPED:
        raise _fail(text, f"{metric} is judged per scenario, not per request kind: write it without {kind + '.'!r}")
    op = _COMPARISONS.get(match["op"])
    if op is None:
        raise _fail(text, f"comparison {match['op']!r} is not one of <, <=, >, >=")
    number = float(match["number"])
    if not math.isfinite(number):
        raise _fail(text, "the limit is not a finite number")
    limit = _limit(text, family, number, match["unit"])
    return Threshold(text=text.strip(), metric=metric, family=family, op=op,
                     limit=limit, kind=kind, percentile=pct)


def parse_thresholds(texts: Iterable[str], *, origin: Origin = "given") -> tuple[Threshold, ...]:
    return tuple(replace(parse_threshold(text), origin=origin) for text in texts)


def with_defaults(given: Sequence[Threshold], defaults: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """``given``, then each of ``defaults`` whose metric no given threshold names (see the
    module doc: the caller's threshold on a metric replaces the default on it)."""
    named = {threshold.metric for threshold in given}
    return (*given, *(threshold for threshold in defaults if threshold.metric not in named))


def _histogram(result: RunResult, kind: str | None) -> LatencyHistogram:
    if kind is not None:
        return result.latency.get(kind) or LatencyHistogram()
    merged = LatencyHistogram()
    for histogram in result.latency.values():
        merged.merge(histogram)
    return merged


def _ops(result: RunResult, kind: str | None) -> Sequence[Op]:
    return result.ops if kind is None else [op for op in result.ops if request_kind(op) == kind]


def _coverage(threshold: Threshold, result: RunResult) -> ThresholdResult:
    """``coverage`` on the scenario with the lowest share (module doc)."""
    applicable = [entry for entry in result.coverage.values() if entry.applicable]
    if not applicable and result.coverage:
        return ThresholdResult(threshold, None, True, "not applicable: no scenario plans a follow-up")
    worst = lowest(result.coverage)
    if worst is None or worst.share is None:
        return ThresholdResult(threshold, None, False, "no samples: no conversation planning a follow-up ended")
    unmeasured = [entry.scenario for entry in applicable if entry.share is None]
    note = f"lowest: {worst.scenario}, {worst.checked:,} of {worst.planned:,} planned follow-ups"
    if unmeasured:   # none of their conversations completed or failed: said, not hidden
        note += f"; not measured (no conversation ended): {', '.join(unmeasured)}"
    return ThresholdResult(threshold, worst.share, threshold.holds(worst.share), note)


def _observe(threshold: Threshold, result: RunResult) -> float | None:
    if threshold.family == "latency":
        if threshold.metric in ("avg", "min"):
            latencies = [op.latency for op in _ops(result, threshold.kind) if op.latency is not None]
            if not latencies:
                return None
            return min(latencies) if threshold.metric == "min" else math.fsum(latencies) / len(latencies)
        histogram = _histogram(result, threshold.kind)
        if histogram.count == 0:
            return None
        if threshold.metric == "max":
            return histogram.max
        return histogram.percentile(50.0 if threshold.metric == "med" else threshold.percentile or 0.0)
    ops = _ops(result, threshold.kind)
    if threshold.family == "rate":
        return sum(op.status != "ok" for op in ops) / len(ops) if ops else None
    if threshold.family == "throughput":
        return len(ops) / result.elapsed if result.elapsed > 0 else None
    return float(len(ops))


def evaluate(thresholds: Iterable[Threshold], result: RunResult) -> list[ThresholdResult]:
    """Judge each threshold against ``result``, in the order given."""
    judged: list[ThresholdResult] = []
    for threshold in thresholds:
        if threshold.metric == "coverage":
            judged.append(_coverage(threshold, result))
            continue
        observed = _observe(threshold, result)
        if observed is None:
            judged.append(ThresholdResult(threshold, None, False, "no samples to measure"))
        else:
            judged.append(ThresholdResult(threshold, observed, threshold.holds(observed)))
    return judged
