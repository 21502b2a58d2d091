"""The checker: a history in, a ``Verdict`` with witnesses out. Pure: no network, clock,
random or file I/O.

``IncrementalChecker`` takes ops as they complete, in any order (Locust's workers finish out
of invocation order). ``observe`` answers at once with what one op and the ops already seen
prove whatever comes later: an anchor on another user's request (``foreign-anchor``), a
history read listing another conversation's request (``foreign-request-id``) or one request
twice (``duplicate-turn``), an answer that misses its step's expectation. Every anomaly it
returns is also in ``finish()``'s verdict, which sorts all ops by ``Op.index`` and runs
every detector from scratch, so that the verdict does not depend on arrival order.
``check(ops)`` is exactly ``observe`` of each op, then ``finish()``.

Validity (as in Elle): any anomaly → ``False``; none, but no ok follow-up was judged (an
empty history, only first queries) → ``"unknown"``, never a pass; otherwise ``True``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Literal

from loadtest.history import Op
from loadtest.oracle import anchors, content, determinism, expectations, ids, turns
from loadtest.oracle.index import HistoryIndex, build_index
from loadtest.oracle.model import PROPERTIES, Anomaly, Checked, Verdict


class IncrementalChecker:
    """Feed ops with ``observe`` as they complete; ``finish`` gives the verdict."""

    def __init__(self, history_limit: int | None = None) -> None:
        self.history_limit = history_limit
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
        new: list[Anomaly] = []
        if op.status == "ok":
            if op.action == "recommend":
                failed = expectations.failed_expectation(op)
                if failed is not None:
                    new.append(failed)
                if op.anchor is not None:
                    if op.anchor.request_id in self._by_request_id:
                        self._add(new, anchors.foreign_anchor_now(op, self._by_request_id))
                    else:
                        self._anchor_waiting.setdefault(op.anchor.request_id, []).append(op)
            elif op.action == "read_history" and op.recorded is not None:
                new += turns.recorded_twice(op)
                new += turns.foreign_request_ids(op, self._by_request_id)
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
                new += (a for a in turns.foreign_request_ids(read, self._by_request_id) if a.source == (op.index,))
        return new

    @staticmethod
    def _add(found: list[Anomaly], anomaly: Anomaly | None) -> None:
        if anomaly is not None:
            found.append(anomaly)

    def finish(self) -> Verdict:
        """The verdict over every op observed, independent of the order they came in."""
        with _no_gc_pauses():
            return self._finish()

    def _finish(self) -> Verdict:
        ops = sorted(self._ops, key=lambda op: op.index)
        ix = build_index(ops, self._by_request_id)
        found: dict[str, list[Anomaly]] = {name: [] for name in PROPERTIES}
        for anomaly in _detect(ix, history_limit=self.history_limit):
            found[anomaly.property].append(anomaly)
        anomalies = {name: tuple(sorted(items, key=_order)) for name, items in found.items() if items}
        checked = Checked(operations=len(ops), sessions=len(ix.answers),
                          follow_ups=len(ix.follow_ups), history_reads=len(ix.reads))
        valid: bool | Literal["unknown"] = False if anomalies else ("unknown" if checked.follow_ups == 0 else True)
        return Verdict(valid=valid, anomalies=anomalies, checked=checked)


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


def _detect(ix: HistoryIndex, *, history_limit: int | None) -> Iterator[Anomaly]:
    for op in ix.ops:
        failed = expectations.failed_expectation(op)
        if failed is not None:
            yield failed
    yield from turns.read_anomalies(ix, history_limit=history_limit)
    yield from turns.duplicate_turns(ix)
    lost: set[int] = set()
    leaked: set[int] = set()
    for op in ix.anchored:
        anomaly = anchors.judge_anchor(op, ix, history_limit=history_limit)
        if anomaly is None:
            continue
        if anomaly.property == "lost-context":
            lost.add(op.index)
        elif anomaly.property == "refresh-leak":
            leaked.add(op.index)
        yield anomaly
    for op in ix.follow_ups:
        if op.conversation in ix.predecessor and op.index not in leaked:
            anomaly = content.refresh_leak(op, ix)
            if anomaly is not None:
                leaked.add(op.index)
                yield anomaly
    if ix.content_ops:
        subjects = content.SubjectIndex(ix)
        for op in ix.content_ops:
            if op.index not in leaked:
                anomaly = content.judge_content(op, ix, subjects, lost=op.index in lost)
                if anomaly is not None:
                    yield anomaly
    yield from content.repeated_tracks(ix)
    made_up = ids.made_up_ids(ix)
    yield from ids.adopted_client_ids(ix, made_up)
    yield from ids.id_collisions(ix, made_up)
    yield from ids.weak_ids(ix, made_up)
    yield from determinism.nondeterministic_answers(ix)


def check(ops: Iterable[Op], *, history_limit: int | None = None) -> Verdict:
    """Judge a whole history: ``IncrementalChecker.observe`` each op, then ``finish``."""
    checker = IncrementalChecker(history_limit=history_limit)
    with _no_gc_pauses():
        for op in ops:
            checker.observe(op)
        return checker.finish()
