"""The master's whole history: every worker's operations, merged, judged by one checker.

In a distributed Locust run (``--isolation-scope whole-history``, the default) workers do not
judge: they stream their operations to the master in batches (``batch_bytes``: the ``Op``
records as JSON, the fields of ``--history`` files), and the master feeds them all to ONE
``IncrementalChecker``, so that properties spanning workers (one session id answered to
users on two workers, two sessions with the same queries given different tracks) are judged.

Terms:
- *slot*: a worker's Locust ``worker_index`` (0 … ``slots`` - 1, ``slots`` being the master's
  ``--expect-workers``, by which workers already number their users apart).
- *global index*: a worker numbers its own ops 0, 1, 2 … in invocation order; the master
  renumbers op ``i`` of slot ``s`` as ``i * slots + s``. Deterministic, unique, and each
  worker's invocation order is kept (what the checker's index order relies on: a client
  sends a session id only after its own answer named it). Across workers the order is an
  interleaving, not a clock: no property compares the order of two users' requests.
- *times*: each worker's op times are seconds since its own test start; the master shifts
  them by the difference of wall clocks at the two starts (``origin``), so that the merged
  history has one clock (exact on one machine; across machines as good as their clocks).
- *backlog* and *lag*: batches received and not judged yet, in operations, and how long
  the oldest of them has waited. Past ``max_backlog`` operations or ``max_lag`` seconds the
  master cannot keep up: it says so, stops judging, and the verdict is a harness error
  (``error``), never a verdict over part of the history.
- *closed*: a worker that has sent its last batch says how many ops it sent in all
  (``close``). A worker that sent ops and never closed, or whose count differs from what
  arrived, leaves the history incomplete: a harness error too.

No Locust import: the tests drive this module as it is.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from loadtest.heap import kept_without_gc_scans
from loadtest.history import Op, op_from_dict
from loadtest.isolation_board import row_key, summary_of, violation_row
from loadtest.oracle import Anomaly, IncrementalChecker, Verdict
from loadtest.oracle.properties import exercised

MAX_BACKLOG = 200_000     # operations received and not judged yet
MAX_LAG = 30.0            # seconds the oldest unjudged batch may wait


def batch_bytes(ops: Iterable[Op]) -> bytes:
    """Ops as one compact JSON array (orjson writes each dataclass with ``op_to_dict``'s fields)."""
    return orjson.dumps(list(ops))


def ops_of(payload: bytes, *, slots: int = 1, slot: int = 0, shift: float = 0.0) -> list[Op]:
    """The ops ``batch_bytes`` wrote, op ``i`` renumbered ``i * slots + slot`` and its times
    moved by ``shift`` seconds (``history.op_from_dict`` of each; the master's judging is
    mostly this decoding, done with the collector held: ``loadtest.heap``)."""
    with kept_without_gc_scans():
        found = []
        for raw in orjson.loads(payload):
            raw["index"] = raw["index"] * slots + slot
            if shift:
                raw["invoked_at"] += shift
                if raw.get("completed_at") is not None:
                    raw["completed_at"] += shift
            found.append(op_from_dict(raw))
        return found


@dataclass(slots=True)
class _Batch:
    slot: int
    ops: bytes
    count: int
    origin: float          # the worker's wall clock at its test start
    received: float        # the master's monotonic clock when the batch arrived


class MergedHistory:
    """The master's one checker over every worker's operations (module doc)."""

    def __init__(self, *, slots: int, history_limit: int | None, evidence: Iterable[str], allowed: Iterable[str],
                 base_url: str, origin: float | None = None, max_backlog: int = MAX_BACKLOG,
                 max_lag: float = MAX_LAG) -> None:
        self.slots = max(int(slots), 1)
        self.base_url = base_url
        self.origin = time.time() if origin is None else origin   # the master's wall clock at test start
        self.max_backlog = max_backlog
        self.max_lag = max_lag
        self.checker = IncrementalChecker(history_limit=history_limit, evidence=evidence,  # type: ignore[arg-type]
                                          allowed=allowed)
        self.allowed = frozenset(allowed)
        self.ops: dict[int, Op] = {}
        self.received: dict[int, int] = {}       # slot -> ops received
        self.closed: dict[int, int] = {}         # slot -> ops the worker says it sent
        self.error: str | None = None
        self.judging_seconds = 0.0               # CPU time spent judging (observe and finish)
        self.cpu_started = time.process_time()   # the whole process's (Locust's master work too)
        self.max_backlog_seen = 0
        self.max_lag_seen = 0.0
        self.summary: dict[str, Any] | None = None
        self._queue: deque[_Batch] = deque()
        self._backlog = 0
        self._sent: set[str] = set()

    # ---- receiving ---------------------------------------------------------------------

    def enqueue(self, data: Mapping[str, Any], *, now: float | None = None) -> None:
        """A worker's batch (``{"slot", "ops", "count", "origin"}``) arrived: queue it. A worker
        beyond ``slots`` numbers its users and ops like another one: the history cannot be merged."""
        slot = int(data["slot"])
        if not 0 <= slot < self.slots:
            self.fail(f"worker index {slot} is beyond --expect-workers {self.slots}: its users and ops "
                      "would be numbered like another worker's, so the history cannot be merged")
        if self.error is not None:
            return
        count = int(data["count"])
        self._queue.append(_Batch(slot, bytes(data["ops"]), count, float(data["origin"]),
                                  time.monotonic() if now is None else now))
        self.received[slot] = self.received.get(slot, 0) + count
        self._backlog += count
        self.max_backlog_seen = max(self.max_backlog_seen, self._backlog)
        if self._backlog > self.max_backlog:
            self.fail(f"the master's checker cannot keep up: {self._backlog} operations wait to be judged "
                      f"(bound {self.max_backlog})")

    def close(self, slot: int, sent: int) -> None:
        """Worker ``slot`` has sent its last batch: ``sent`` ops in all."""
        self.closed[int(slot)] = int(sent)

    @property
    def backlog(self) -> int:
        return self._backlog

    def lag(self, now: float | None = None) -> float:
        """How long the oldest batch not judged yet has waited (0 with none waiting)."""
        if not self._queue:
            return 0.0
        return (time.monotonic() if now is None else now) - self._queue[0].received

    def fail(self, reason: str) -> None:
        """The verdict cannot cover the whole history: stop judging, keep the first reason."""
        if self.error is None:
            self.error = reason
        self._queue.clear()
        self._backlog = 0

    # ---- judging -----------------------------------------------------------------------

    def judge_next(self, *, now: float | None = None) -> list[dict[str, str]] | None:
        """Judge the oldest batch waiting: the rows of the anomalies it proves now (``None``:
        nothing was waiting, or judging stopped)."""
        if self.error is not None or not self._queue:
            return None
        lag = self.lag(now)
        self.max_lag_seen = max(self.max_lag_seen, lag)
        if lag > self.max_lag:
            self.fail(f"the master's checker cannot keep up: a batch waited {lag:.1f} s to be judged "
                      f"(bound {self.max_lag:g} s)")
            return None
        batch = self._queue.popleft()
        self._backlog -= batch.count
        started = time.process_time()
        shift = batch.origin - self.origin
        anomalies: list[Anomaly] = []
        try:
            ops = ops_of(batch.ops, slots=self.slots, slot=batch.slot, shift=shift)
        except (ValueError, KeyError, TypeError) as exc:    # orjson's JSONDecodeError is a ValueError
            self.fail(f"a batch of worker w{batch.slot} is not a batch of operations ({type(exc).__name__}: {exc})")
            return None
        with kept_without_gc_scans():
            for op in ops:
                self.ops[op.index] = op
                anomalies += self.checker.observe(op)
        rows = self._rows(anomalies)
        self.judging_seconds += time.process_time() - started
        return rows

    def drain(self) -> list[dict[str, str]]:
        """Judge every batch waiting (at the end, when no more can come)."""
        rows: list[dict[str, str]] = []
        while (found := self.judge_next()) is not None:
            rows += found
        return rows

    def incomplete(self, expected: Iterable[int] = ()) -> list[int]:
        """Slots whose history is not whole: expected or heard from, but not closed, or closed
        with a count other than what arrived."""
        slots = set(expected) | set(self.received) | set(self.closed)
        return sorted(slot for slot in slots
                      if slot not in self.closed or self.closed[slot] != self.received.get(slot, 0))

    def finish(self, expected: Iterable[int] = ()) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The final verdict over the merged history: rows not reported yet, and the summary.
        A worker whose history is incomplete (``incomplete``) makes it a harness error."""
        rows = self.drain()
        missing = self.incomplete(expected)
        if missing and self.error is None:
            detail = ", ".join(
                f"w{slot}: " + (f"sent {self.closed[slot]} ops, {self.received.get(slot, 0)} arrived"
                                if slot in self.closed else "no final batch")
                for slot in missing)
            self.fail(f"the verdict is not whole: worker(s) {detail}")
        verdict = Verdict(valid="unknown", anomalies={})
        if self.error is None:
            started = time.process_time()
            try:
                verdict = self.checker.finish()
            except Exception as exc:   # a checker bug: no verdict, and the reason
                self.fail(f"the master's checker failed: {type(exc).__name__}: {exc}")
            self.judging_seconds += time.process_time() - started
            rows += self._rows(a for found in verdict.anomalies.values() for a in found)
        self.summary = {**summary_of(verdict, worker="master", exercised=exercised(list(self.ops.values()))),
                        "scope": "whole-history", "error": self.error, "judging_seconds": round(self.judging_seconds, 3),
                        "cpu_seconds": round(time.process_time() - self.cpu_started, 3),
                        "max_backlog": self.max_backlog_seen, "max_lag": round(self.max_lag_seen, 3)}
        return rows, self.summary

    def history(self) -> list[Op]:
        """The merged history, in index order (what ``--history`` writes)."""
        return [self.ops[index] for index in sorted(self.ops)]

    def _rows(self, anomalies: Iterable[Anomaly]) -> list[dict[str, str]]:
        rows = []
        for anomaly in anomalies:
            worker = self.worker_of(anomaly)
            key = row_key(anomaly, worker=worker)
            if key not in self._sent:
                self._sent.add(key)
                rows.append(violation_row(anomaly, self.ops, base_url=self.base_url, worker=worker,
                                          allowed=anomaly.property in self.allowed))
        return rows

    def worker_of(self, anomaly: Anomaly) -> str:
        """The workers whose users the anomaly's witness ops came from: ``w0``, or ``w0+w1``."""
        slots = sorted({index % self.slots for index in (*anomaly.victim, *anomaly.source)})
        return "+".join(f"w{slot}" for slot in slots) or "master"


__all__ = ["MAX_BACKLOG", "MAX_LAG", "MergedHistory", "batch_bytes", "ops_of"]
