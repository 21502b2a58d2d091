"""The checker: a history in, a ``Verdict`` with witnesses out. Pure: no network, clock,
random or file I/O.

It judges the properties of ``properties.REGISTRY`` that the target's evidence makes
checkable (``checkable``), each by its own detector; the others are not judged at all.

``IncrementalChecker`` takes ops as they complete, in any order (Locust's workers finish out
of invocation order). ``observe`` answers at once with what one op and the ops already seen
prove whatever comes later: an anchor on another user's request (``foreign-anchor``), a
history read listing another conversation's request (``foreign-request-id``) or one request
twice (``duplicate-turn``), an answer that misses its step's expectation. Every anomaly it
returns is also in ``finish()``'s verdict, which sorts all ops by ``Op.index`` and runs
every detector from scratch, so that the verdict does not depend on arrival order.
``check(ops)`` is exactly ``observe`` of each op, then ``finish()``.

Validity (as in Elle): any anomaly of a property the caller has not *allowed* → ``False``;
none, but nothing was judged → ``"unknown"``, never a pass; otherwise ``True``. An allowed
property (a service that adopts client ids by design allows ``adopted-client-id``) is still
judged and its anomalies are still in the verdict, reported; they only do not fail it. *Judged*: when a follow-up property is checkable, at least
one ok follow-up (an empty history, or only first queries, checks nothing); otherwise at
least one operation that a checkable property is exercised by (``properties.exercised``);
with no checkable property at all, nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

from loadtest.history import Op
from loadtest.oracle import anchors, expectations, turns
from loadtest.oracle.context import Context
from loadtest.oracle.index import build_index
from loadtest.oracle.model import Anomaly, Checked, Evidence, Finding, Verdict
from loadtest.oracle.properties import ALL_EVIDENCE, REGISTRY, Property, checkable, exercised


class IncrementalChecker:
    """Feed ops with ``observe`` as they complete; ``finish`` gives the verdict."""

    def __init__(self, history_limit: int | None = None, *, evidence: Iterable[Evidence] = ALL_EVIDENCE,
                 allowed: Iterable[str] = ()) -> None:
        self.history_limit = history_limit
        self.evidence: frozenset[Evidence] = frozenset(evidence)
        self.allowed: frozenset[str] = frozenset(allowed)
        self.judged: tuple[Property, ...] = tuple(REGISTRY[name] for name in checkable(self.evidence))
        names = {prop.name for prop in self.judged}
        # What observe may report early: only properties finish() judges too.
        self._early_anchors = "foreign-anchor" in names
        self._early_expectations = "expectation-failed" in names
        self._early_reads = "foreign-request-id" in names
        self._early_twice = "duplicate-turn" in names and "history" in self.evidence
        self._ops: list[Op] = []
        self._by_request_id: dict[str, Op] = {}
        # Ops whose judgement waits for the op that sent a request id they name.
        self._anchor_waiting: dict[str, list[Op]] = {}
        self._read_waiting: dict[str, list[Op]] = {}

    def observe(self, op: Op) -> list[Anomaly]:
        """Record ``op``; return the anomalies it proves now (also in ``finish()``)."""
        self._ops.append(op)
        known = self._by_request_id.get(op.request_id)
        if known is None or op.index < known.index:
            self._by_request_id[op.request_id] = op
        new: list[Finding] = []
        if op.status == "ok":
            if op.action == "recommend":
                if self._early_expectations:
                    missed = expectations.failed_expectation(op, self.evidence)
                    # A session_created miss may yet be excused by an op of unknown outcome that
                    # comes in later (``expectations``): left to finish().
                    if missed is not None and "session_created" not in missed.value:
                        new.append(missed)
                if op.anchor is not None and self._early_anchors:
                    if op.anchor.request_id in self._by_request_id:
                        self._add(new, anchors.foreign_anchor_now(op, self._by_request_id))
                    else:
                        self._anchor_waiting.setdefault(op.anchor.request_id, []).append(op)
            elif op.action == "read_history" and op.recorded is not None:
                if self._early_twice:
                    new += turns.recorded_twice(op)
                if self._early_reads:
                    new += turns.foreign_request_ids_in(op, self._by_request_id)
                    for recorded in op.recorded:
                        if recorded.request_id not in self._by_request_id:
                            waiting = self._read_waiting.setdefault(recorded.request_id, [])
                            if not waiting or waiting[-1] is not op:
                                waiting.append(op)
        if self._anchor_waiting:
            for follow_up in self._anchor_waiting.pop(op.request_id, ()):
                self._add(new, anchors.foreign_anchor_now(follow_up, self._by_request_id))
        if self._read_waiting:
            for read in self._read_waiting.pop(op.request_id, ()):
                new += (f for f in turns.foreign_request_ids_in(read, self._by_request_id) if f.source == (op.index,))
        return [REGISTRY[finding.property].anomaly(finding) for finding in new]

    @staticmethod
    def _add(found: list[Finding], finding: Finding | None) -> None:
        if finding is not None:
            found.append(finding)

    def finish(self) -> Verdict:
        """The verdict over every op observed, independent of the order they came in."""
        with _no_gc_pauses():
            return self._finish()

    def _finish(self) -> Verdict:
        ops = sorted(self._ops, key=lambda op: op.index)
        ix = build_index(ops, self._by_request_id)
        ctx = Context(ix, history_limit=self.history_limit, evidence=self.evidence,
                      judged=frozenset(prop.name for prop in self.judged))
        anomalies: dict[str, tuple[Anomaly, ...]] = {}
        for prop in self.judged:
            found = [prop.anomaly(finding) for finding in prop.detect(ctx)]
            if found:
                anomalies[prop.name] = tuple(sorted(found, key=_order))
        checked = Checked(operations=len(ops), sessions=len(ix.answers),
                          follow_ups=len(ix.follow_ups), history_reads=len(ix.reads))
        return Verdict(valid=self._validity(anomalies, checked, ops), anomalies=anomalies,
                       checked=checked, evidence=self.evidence, allowed=self.allowed)

    def _validity(self, anomalies: dict[str, tuple[Anomaly, ...]], checked: Checked,
                  ops: list[Op]) -> bool | Literal["unknown"]:
        if any(name not in self.allowed for name in anomalies):
            return False
        needs = {prop.exercise for prop in self.judged}
        if "follow_ups" in needs:
            return True if checked.follow_ups else "unknown"
        if not needs:
            return "unknown"
        seen = exercised(ops)
        return True if any(seen[need] for need in needs) else "unknown"


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while judging: the tables hold millions of small,
    acyclic objects, and its generation scans over them cost a third of the time. Reference
    counting still frees everything; the collector's previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _order(anomaly: Anomaly) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    return anomaly.victim, anomaly.source, anomaly.explanation


def check(ops: Iterable[Op], *, history_limit: int | None = None,
          evidence: Iterable[Evidence] = ALL_EVIDENCE, allowed: Iterable[str] = ()) -> Verdict:
    """Judge a whole history: ``IncrementalChecker.observe`` each op, then ``finish``."""
    checker = IncrementalChecker(history_limit=history_limit, evidence=evidence, allowed=allowed)
    with _no_gc_pauses():
        for op in ops:
            checker.observe(op)
        return checker.finish()
