"""The JSON report: ``{"schema": "beatdebate-report", "version": 2, ...}``.

Every field is documented in ``docs/report-schema.md``; a change to a field's meaning or a
removal bumps ``version``, an added field does not. Version 2 (issue 14) is version 1 with
every field kept, plus the run over time (``time_series``, ``loadtest.report.timeseries``)
and each witness's anchor (``anomalies[].witness``): it was bumped so that a reader such as
``beatdebate compare`` can tell a report that has no time series from one whose run had no
seconds to show. Keys come out in a fixed order
(maps keyed by data, such as errors or latency kinds, are sorted), so two reports of the
same run compare equal byte for byte apart from ``generated_at``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from loadtest.history import FaultWindow
from loadtest.oracle.explain import curl_for, windows_around
from loadtest.oracle.model import Anomaly
from loadtest.outcome import exit_code
from loadtest.report.replay import Replay, replay_for
from loadtest.report.status import (
    class_counts,
    judge,
    ops_by_index,
    outcome,
    property_statuses,
    target_url,
    witness_text,
)
from loadtest.report.timeseries import WITNESS_LIMIT, TimeSeries, run_time_series, witness_id
from loadtest.result import RunResult
from loadtest.thresholds import Threshold, ThresholdResult

REPORT_SCHEMA = "beatdebate-report"
REPORT_VERSION = 2
READABLE_VERSIONS = (1, 2)   # what the readers of reports (``compare``) accept
ANOMALY_LIMIT = WITNESS_LIMIT   # witnesses written per property; the counts stay exact


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _totals(result: RunResult) -> dict[str, Any]:
    statuses = {"ok": 0, "fail": 0, "unknown": 0}
    conversations: set[str] = set()
    sessions: set[str] = set()
    for op in result.ops:
        statuses[op.status] += 1
        conversations.add(op.conversation)
        if op.session is not None:
            sessions.add(op.session)
    return {
        "requests": result.requests,
        "ok": statuses["ok"],
        "failed": statuses["fail"],
        "unknown": statuses["unknown"],
        "throughput_rps": result.throughput,
        "conversations": len(conversations),
        "sessions": len(sessions),
    }


def _latency(result: RunResult) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for kind in sorted(result.latency):
        summary = result.latency[kind].summary()
        out[kind] = {key: (int(value) if key == "count" else value * 1000) for key, value in summary.items()}
    return out


def _window(window: FaultWindow) -> dict[str, Any]:
    return {"name": window.name, "start_s": window.start, "end_s": window.end, "detail": window.detail}


def _anomaly(anomaly: Anomaly, ops: Mapping[int, Any], base_url: str | None,
             faults: Sequence[FaultWindow] = (), replay: Replay = curl_for, *, witness: str) -> dict[str, Any]:
    description, curl = witness_text(anomaly, ops, base_url, replay)
    return {
        "witness": witness,
        "property": anomaly.property,
        "class": anomaly.cls,
        "scenario": anomaly.scenario,
        "conversation": anomaly.conversation,
        "session": anomaly.session,
        "victim_ops": list(anomaly.victim),
        "source_ops": list(anomaly.source),
        "explanation": anomaly.explanation,
        "description": description,
        "curl": curl,
        "value": anomaly.value,
        # A run with a nemesis: the windows the witness falls in (``explain.windows_around``).
        **({"fault_windows": [_window(w) for w in windows_around(anomaly, ops, faults)]} if faults else {}),
    }


def _threshold(item: ThresholdResult) -> dict[str, Any]:
    threshold = item.threshold
    return {
        "expression": threshold.text,
        "kind": threshold.kind,
        "metric": threshold.metric,
        "op": threshold.op,
        "limit": threshold.limit,
        "unit": _UNITS[threshold.family],
        "observed": item.observed,
        "passed": item.passed,
        "note": item.note or None,
        "origin": threshold.origin,
    }


def _coverage(result: RunResult) -> dict[str, Any]:
    return {
        name: {
            "applicable": entry.applicable,
            "planned_per_conversation": entry.per_conversation,
            "conversations": {"started": entry.started, "completed": entry.completed,
                              "failed": entry.failed, "cut": entry.cut},
            "follow_ups": {"planned": entry.planned, "checked": entry.checked},
            "share": entry.share,
        }
        for name, entry in sorted(result.coverage.items())
    }


_UNITS = {"latency": "s", "rate": "fraction", "throughput": "requests/s", "count": "requests"}


def build_json_report(
    result: RunResult,
    *,
    thresholds: Iterable[Threshold | ThresholdResult] = (),
    base_url: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
    anomaly_limit: int = ANOMALY_LIMIT,
    now: float | None = None,
    series: TimeSeries | None = None,
) -> dict[str, Any]:
    """The report as a dict in schema order (see ``docs/report-schema.md``); ``series``: the
    run's time series when the caller already has it (``run_time_series(result)`` otherwise)."""
    if series is None:
        series = run_time_series(result, witness_limit=anomaly_limit)
    judged = judge(result, thresholds)
    url = target_url(result, base_url)
    ops = ops_by_index(result.ops)
    counts = class_counts(result)
    statuses = property_statuses(result, properties=properties)
    anomalies: list[dict[str, Any]] = []
    omitted: dict[str, int] = {}
    replay = replay_for(result.settings)
    for name in sorted(result.verdict.anomalies):
        found = result.verdict.anomalies[name]
        anomalies.extend(_anomaly(a, ops, url, result.faults, replay, witness=witness_id(name, position))
                         for position, a in enumerate(found[:anomaly_limit]))
        if len(found) > anomaly_limit:
            omitted[name] = len(found) - anomaly_limit
    checked = result.verdict.checked
    return {
        "schema": REPORT_SCHEMA,
        "version": REPORT_VERSION,
        "generated_at": _iso(dt.datetime.now(dt.UTC).timestamp() if now is None else now),
        "target": result.target,
        "scenarios": list(result.scenarios),
        "settings": dict(result.settings),
        "timings": {
            "started_at": _iso(result.started_at),
            "started_at_epoch": result.started_at,
            "elapsed_s": result.elapsed,
        },
        "totals": _totals(result),
        "latency_ms": _latency(result),
        "errors": {kind: result.errors[kind] for kind in sorted(result.errors)},
        "skipped_personas": [{"persona": s.persona, "reason": s.reason} for s in result.skipped_personas],
        "checked": {
            "operations": checked.operations,
            "sessions": checked.sessions,
            "follow_ups": checked.follow_ups,
            "history_reads": checked.history_reads,
        },
        "coverage": _coverage(result),
        "verdict": {
            "valid": result.verdict.valid,
            "outcome": outcome(result),
            "bleeding": counts["bleeding"],
            "loss": counts["loss"],
            "by_property": {
                s.property: {"class": s.cls, "status": s.state, "count": s.count, "description": s.description,
                             **({"missing_evidence": list(s.missing)} if s.missing else {})}
                for s in statuses
            },
            # What the target's answers could show (its profile), and the properties the caller allows.
            "evidence": sorted(result.verdict.evidence),
            "allowed": sorted(result.verdict.allowed),
        },
        "anomalies": anomalies,
        "anomalies_omitted": omitted,
        **({"faults": [_window(w) for w in result.faults]} if result.faults else {}),   # a run with a nemesis
        "thresholds": [_threshold(item) for item in judged],
        "time_series": series.to_json(),
        "harness_error": result.harness_error,
        "exit_code": int(exit_code(outcome(result), judged)),
    }


def write_json_report(
    result: RunResult,
    path: Path,
    *,
    thresholds: Iterable[Threshold | ThresholdResult] = (),
    base_url: str | None = None,
    properties: Mapping[str, tuple[str, str]] | None = None,
    series: TimeSeries | None = None,
) -> dict[str, Any]:
    """Write the report to ``path`` (parents created); returns what was written."""
    report = build_json_report(result, thresholds=thresholds, base_url=base_url, properties=properties,
                               series=series)
    path.parent.mkdir(parents=True, exist_ok=True)
    # default=str: settings may hold a Path or an enum; the report must still be written.
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str) + b"\n")
    return report
