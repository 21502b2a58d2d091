"""The isolation board: what the Locust integration shows of the checker's anomalies.

The locustfile runs an ``IncrementalChecker`` in every process that runs users (the local
runner, or each worker). Each anomaly it finds becomes a *violation row*: plain strings,
so that it crosses Locust's master/worker channel (msgpack) as it is and fills a row of the
web UI's Isolation tab. The process that reports (the local runner, or the master) keeps
an ``IsolationBoard``: the rows, a count per property, and one *summary* per worker (what
its checker judged, from its final ``Verdict``, and what its operations exercised). The
board's verdict decides the exit code.

In a distributed run judged as a whole (``scope`` ``whole-history``, the default) the only
checker is the master's (``loadtest.locustfile.merged``), and its summary is the board's only
one; with ``per-worker`` scope each worker's checker judges its own operations and sends its
summary. ``workers`` is how many worker processes ran users (0: the only process ran them).
A board with an ``error`` (the master could not judge the whole history: it fell behind, a
worker never sent its last operations) exits with the harness's code unless a violation was
proven anyway.

The board also knows how the test is judged (``configure``): the target profile's name, the
scenarios run, the evidence the profile's answers show and the properties allowed to fail.
Each property then has a *status*, in the words of ``loadtest.report.status``:
``violated``, ``allowed`` (violated, but reported without failing the run),
``not_checkable`` (the profile's answers do not show the evidence it needs: never a pass),
``held`` or ``not_exercised``.

Nothing here judges isolation: the oracle does. Nothing here imports Locust.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any, Literal

from loadtest.history import Op
from loadtest.oracle import ALL_EVIDENCE, PROPERTIES, REGISTRY, Evidence, Exercise, explain
from loadtest.oracle.model import Anomaly, Verdict
from loadtest.oracle.properties import missing_evidence
from loadtest.outcome import ExitCode
from loadtest.outcome import exit_code as outcome_exit_code
from loadtest.report.status import PropertyState

Valid = bool | Literal["unknown"]

# The tab's columns, in order: (row key, title). Keys are single lowercase words because the
# web UI camel-cases keys of extended tables.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("property", "Property"),
    ("cls", "Class"),
    ("state", "State"),
    ("worker", "Worker"),
    ("conversation", "Conversation"),
    ("session", "Session"),
    ("explanation", "Explanation"),
    ("ops", "Witness ops"),
    ("curl", "Replay"),
)

_CURLS_SHOWN = 2


def violation_row(anomaly: Anomaly, ops_by_index: Mapping[int, Op], *, base_url: str,
                  worker: str, allowed: bool = False) -> dict[str, str]:
    """One anomaly as a row of plain strings: ``state`` is ``allowed`` when its property is
    allowed to fail (else ``violated``), ``ops`` names the witness's ops in a line each,
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
        "state": "allowed" if allowed else "violated",
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


def summary_of(verdict: Verdict, *, worker: str, exercised: Mapping[Exercise, int] | None = None) -> dict[str, Any]:
    """What one process's checker judged, for the board: its verdict without the anomalies
    (those travel as rows), and how many operations of each kind its run exercised
    (``loadtest.oracle.properties.exercised``), which tells held from not exercised."""
    return {"worker": worker, "valid": verdict.valid, "anomalies": verdict.count,
            "checked": asdict(verdict.checked), "exercised": dict(exercised or {})}


def exit_code(valid: Valid) -> ExitCode:
    """The process exit code for a verdict (``loadtest.outcome``'s table): isolation decides
    it, not HTTP errors; a run that checked nothing does not pass."""
    return outcome_exit_code("unknown" if valid == "unknown" else "pass" if valid else "fail")


class IsolationBoard:
    """The violations of one test run, gathered from every checker that took part."""

    def __init__(self, *, max_rows: int = 1000) -> None:
        self.max_rows = max_rows
        self.configure()
        self.reset()

    def configure(self, *, profile: str = "contract", scenarios: Iterable[str] = (),
                  evidence: Iterable[Evidence] = ALL_EVIDENCE, allowed: Iterable[str] = ()) -> None:
        """How the test is judged: the profile's name, the scenarios run, the evidence the
        profile's answers show, the properties whose violations do not fail the run."""
        self.profile = profile
        self.scenarios: tuple[str, ...] = tuple(dict.fromkeys(scenarios))
        self.evidence: frozenset[Evidence] = frozenset(evidence)
        self.allowed: frozenset[str] = frozenset(allowed)

    def reset(self, *, scope: str = "whole-history", workers: int = 0) -> None:
        """Forget every violation and summary: a new test run starts, judged over ``scope``
        (``whole-history`` or ``per-worker``) with ``workers`` worker processes."""
        self.scope = scope
        self.workers = workers
        self.error: str | None = None
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

    def fail(self, reason: str) -> None:
        """The harness could not judge what the run claims (the first reason is kept)."""
        if self.error is None:
            self.error = reason

    @property
    def valid(self) -> Valid:
        """False on any violation of a property not allowed; True when some checker judged
        something and found none (or only allowed ones); otherwise "unknown"."""
        failing = any(name not in self.allowed for name in self.counts)
        if failing or any(s["valid"] is False for s in self.summaries.values()):
            return False
        return True if any(s["valid"] is True for s in self.summaries.values()) else "unknown"

    @property
    def exit_code(self) -> ExitCode:
        """``exit_code(valid)``; with an ``error`` and no violation, the harness's code (a
        verdict over part of the history is none)."""
        if self.error is not None and self.valid is not False:
            return ExitCode.HARNESS
        return exit_code(self.valid)

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Each property's status (module doc), in ``PROPERTIES`` order, as the JSON report's
        ``by_property``: ``{"class", "status", "count", "description"}``, with
        ``missing_evidence`` when not checkable. Held needs an exercising operation on some
        process, and a verdict that is not "unknown"."""
        seen: Counter[str] = Counter()
        if self.valid != "unknown":
            for summary in self.summaries.values():
                seen.update(summary.get("exercised") or {})
        catalog: dict[str, tuple[str, str]] = dict(PROPERTIES)
        for row in self.rows:       # no anomaly goes unreported, even of a property not registered
            catalog.setdefault(row["property"], (row["cls"], "(not listed in the property registry)"))
        out: dict[str, dict[str, Any]] = {}
        for name, (cls, description) in catalog.items():
            prop = REGISTRY.get(name)
            missing = missing_evidence(prop, self.evidence) if prop is not None else ()
            state: PropertyState
            if self.counts[name]:
                state = "allowed" if name in self.allowed else "violated"
            elif missing:
                state = "not_checkable"
            else:
                state = "held" if prop is not None and seen[prop.exercise] > 0 else "not_exercised"
            out[name] = {"class": cls, "status": state, "count": self.counts[name], "description": description,
                         **({"missing_evidence": list(missing)} if missing and state == "not_checkable" else {})}
        return out

    def shown(self, limit: int) -> list[dict[str, str]]:
        """The Isolation tab's rows: at most ``limit`` violation rows, taken in turn from each
        property (in ``PROPERTIES`` order: bleeding first), so that a flood of one kind of
        violation does not hide the others; then one row per property this profile cannot
        check, which says the evidence it lacks."""
        return self._violations_shown(limit) + self._not_checkable_rows()

    def _not_checkable_rows(self) -> list[dict[str, str]]:
        blank = {key: "" for key, _ in COLUMNS}      # the tab's table shows every column
        return [{**blank, "property": name, "cls": status["class"], "state": "not checkable",
                 "explanation": f"not checkable with profile {self.profile}: needs "
                                + ", ".join(status["missing_evidence"])}
                for name, status in self.statuses().items() if status["status"] == "not_checkable"]

    def _violations_shown(self, limit: int) -> list[dict[str, str]]:
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
            "scope": self.scope,
            "workers": self.workers,
            "error": self.error,
            "violations": sum(self.counts.values()),
            "counts": dict(self.counts),
            "shown": len(self.rows),
            "checkers": list(self.summaries.values()),
            "rows": self.rows,
            # How the test was judged, and what that made of each property.
            "profile": self.profile,
            "scenarios": list(self.scenarios),
            "evidence": sorted(self.evidence),
            "allowed": sorted(self.allowed),
            "by_property": self.statuses(),
        }
