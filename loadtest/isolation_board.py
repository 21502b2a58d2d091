"""The isolation board: what the Locust integration shows of the checker's anomalies.

The locustfile runs an ``IncrementalChecker`` in every process that runs users (the local
runner, or each worker). Each anomaly it finds becomes a *violation row*: plain strings,
so that it crosses Locust's master/worker channel (msgpack) as it is and fills a row of the
web UI's Isolation tab. The process that reports (the local runner, or the master) keeps
an ``IsolationBoard``: the rows, a count per property, and one *summary* per worker (what
its checker judged, from its final ``Verdict``). The board's verdict decides the exit code.

Nothing here judges isolation: the oracle does. Nothing here imports Locust.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Literal

from loadtest.history import Op
from loadtest.oracle import PROPERTIES, explain
from loadtest.oracle.model import Anomaly, Verdict
from loadtest.outcome import ExitCode
from loadtest.outcome import exit_code as outcome_exit_code

Valid = bool | Literal["unknown"]

# The tab's columns, in order: (row key, title). Keys are single lowercase words because the
# web UI camel-cases keys of extended tables.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("property", "Property"),
    ("cls", "Class"),
    ("worker", "Worker"),
    ("conversation", "Conversation"),
    ("session", "Session"),
    ("explanation", "Explanation"),
    ("ops", "Witness ops"),
    ("curl", "Replay"),
)

_CURLS_SHOWN = 2


def violation_row(anomaly: Anomaly, ops_by_index: Mapping[int, Op], *, base_url: str,
                  worker: str) -> dict[str, str]:
    """One anomaly as a row of plain strings: ``ops`` names the witness's ops in a line each,
    ``witness`` describes them in full (``explain.describe``), ``curl`` replays the victim's
    ops (the last ``_CURLS_SHOWN`` of them)."""
    victims = [ops_by_index[index] for index in anomaly.victim if index in ops_by_index]
    named = [f"{role} op {index}: " + (explain.label(ops_by_index[index]) if index in ops_by_index
                                       else "(not kept)")
             for role, indexes in (("victim", anomaly.victim), ("source", anomaly.source))
             for index in indexes]
    return {
        "property": anomaly.property,
        "cls": anomaly.cls,
        "worker": worker,
        "conversation": anomaly.conversation,
        "scenario": anomaly.scenario,
        "session": explain.session_ref(anomaly.session),
        "explanation": anomaly.explanation,
        "ops": "\n".join(named),
        "witness": explain.describe(anomaly, ops_by_index),
        "curl": "\n".join(explain.curl_for(op, base_url) for op in victims[-_CURLS_SHOWN:]),
        "key": row_key(anomaly, worker=worker),
    }


def row_key(anomaly: Anomaly, *, worker: str) -> str:
    """An anomaly's identity on the board (``observe`` and ``finish`` report the same one
    twice). Op indexes are unique per process, so the worker is part of it."""
    return f"{worker}|{anomaly.property}|{anomaly.victim}|{anomaly.source}"


def summary_of(verdict: Verdict, *, worker: str) -> dict[str, Any]:
    """What one process's checker judged, for the board: its verdict without the anomalies
    (those travel as rows)."""
    return {"worker": worker, "valid": verdict.valid, "anomalies": verdict.count,
            "checked": asdict(verdict.checked)}


def exit_code(valid: Valid) -> ExitCode:
    """The process exit code for a verdict (``loadtest.outcome``'s table): isolation decides
    it, not HTTP errors; a run that checked nothing does not pass."""
    return outcome_exit_code("unknown" if valid == "unknown" else "pass" if valid else "fail")


class IsolationBoard:
    """The violations of one test run, gathered from every checker that took part."""

    def __init__(self, *, max_rows: int = 1000) -> None:
        self.max_rows = max_rows
        self.reset()

    def reset(self) -> None:
        """Forget everything: a new test run starts."""
        self.rows: list[dict[str, str]] = []
        self.counts: Counter[str] = Counter()
        self.summaries: dict[str, dict[str, Any]] = {}
        self._keys: set[str] = set()

    def add(self, rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
        """Record rows; returns those not seen before (a worker may resend at its finish).
        Past ``max_rows`` rows only the count per property grows."""
        fresh: list[dict[str, str]] = []
        for row in rows:
            if row["key"] in self._keys:
                continue
            self._keys.add(row["key"])
            self.counts[row["property"]] += 1
            fresh.append(dict(row))
            if len(self.rows) < self.max_rows:
                self.rows.append(dict(row))
        return fresh

    def add_summary(self, summary: Mapping[str, Any]) -> None:
        self.summaries[str(summary["worker"])] = dict(summary)

    @property
    def valid(self) -> Valid:
        """False on any violation; True when some checker judged something and found none;
        otherwise "unknown"."""
        if self.counts or any(s["valid"] is False for s in self.summaries.values()):
            return False
        return True if any(s["valid"] is True for s in self.summaries.values()) else "unknown"

    @property
    def exit_code(self) -> ExitCode:
        return exit_code(self.valid)

    def shown(self, limit: int) -> list[dict[str, str]]:
        """At most ``limit`` rows, taken in turn from each property (in ``PROPERTIES`` order:
        bleeding first), so that a flood of one kind of violation does not hide the others."""
        by_property: dict[str, list[dict[str, str]]] = {}
        for row in self.rows:
            by_property.setdefault(row["property"], []).append(row)
        rank = {name: position for position, name in enumerate(PROPERTIES)}
        groups = [by_property[name] for name in sorted(by_property, key=lambda n: rank.get(n, len(rank)))]
        out: list[dict[str, str]] = []
        for layer in itertools.zip_longest(*groups):
            out += (row for row in layer if row is not None)
            if len(out) >= limit:
                break
        return out[:limit]

    def snapshot(self) -> dict[str, Any]:
        """The board as JSON-ready data: what the ``/isolation`` endpoint serves."""
        return {
            "valid": self.valid,
            "violations": sum(self.counts.values()),
            "counts": dict(self.counts),
            "shown": len(self.rows),
            "workers": list(self.summaries.values()),
            "rows": self.rows,
        }
