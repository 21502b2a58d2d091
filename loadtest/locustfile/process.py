"""One process's share of a Locust run: its scenarios, its ops, its checker, the rows it found.

Each process that runs users (the only process, or each worker) makes one ``ProcessRun`` per
test, from the test's plan (``options.RunPlan``). Its users talk through the plan's profile's
exchange (``loadtest.profiles.exchange_for``: the native ``loadtest.exchange.CONTRACT`` for
the contract), which turns every answer into an ``Op``; they hand it to ``complete``, which
feeds the ``IncrementalChecker`` (judging with the profile's evidence and the allowed
properties); each anomaly becomes a violation row (``loadtest.isolation_board``) once,
although ``finish`` repeats what ``observe`` found.

A *streaming* run (a worker of a run judged as a whole: ``--isolation-scope whole-history``)
judges nothing itself: ``complete`` queues each op in ``outbox`` for the master
(``loadtest.locustfile.merged``), which judges every worker's ops with one checker.

No Locust import: what it needs of the runner comes in as plain values.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterable
from typing import Any

from loadtest.exchange import Exchange
from loadtest.history import Op
from loadtest.isolation_board import row_key, summary_of, violation_row
from loadtest.locustfile.options import RunPlan, resolve_plan, resolve_pool, skipped_personas
from loadtest.oracle import Anomaly, IncrementalChecker
from loadtest.oracle.properties import exercised
from loadtest.personas import Assigner
from loadtest.profiles import exchange_for


class ProcessRun:
    """What one process that runs users keeps for one test."""

    def __init__(self, options: Any, *, base_url: str, worker: str, worker_index: int, stride: int,
                 plan: RunPlan | None = None, stream: bool = False) -> None:
        self.worker = worker                    # "local", or "w<N>" on a worker
        self.worker_index = worker_index
        self.stride = stride                    # processes that share the user numbers
        self.plan = plan if plan is not None else resolve_plan(options)
        # One for all users of the process: an exchange holds no user's state.
        self.exchange: Exchange = exchange_for(self.plan.profile)
        self.scenarios = self.plan.scenarios
        self.weights = [scenario.weight for scenario in self.scenarios]
        self.seed = int(options.seed)
        self.think_scale = float(options.think_scale)
        self.assign = Assigner(resolve_pool(options.personas, skip=skipped_personas(options)), seed=self.seed)
        self.base_url = base_url
        self.tag = f"lc{secrets.token_hex(3)}{worker}"   # unique X-Request-ID prefix
        self.started = time.monotonic()
        self.origin = time.time()               # the wall clock at ``started``: the master aligns clocks by it
        self.cpu_started = time.process_time()
        self.stream = stream
        self.outbox: list[Op] = []              # streaming: ops not yet sent to the master
        self.streamed = 0                       # streaming: ops handed to the outbox in all
        self.checker = IncrementalChecker(history_limit=int(options.history_limit), evidence=self.plan.evidence,
                                          allowed=self.plan.allowed)
        self.ops: dict[int, Op] = {}
        self.sent: set[str] = set()             # row keys already reported
        self.violated = 0                       # rows reported of properties not allowed
        self.pending: list[dict[str, str]] = []  # rows not yet sent to the master
        self.summary: dict[str, Any] | None = None   # set by finish()
        self._indexes = itertools.count()
        self._users = itertools.count()

    def now(self) -> float:
        return time.monotonic() - self.started

    def next_index(self) -> int:
        return next(self._indexes)

    def next_user(self) -> int:
        # Interleaved across workers so that users of different workers get different personas.
        return next(self._users) * self.stride + self.worker_index

    def complete(self, op: Op) -> list[dict[str, str]]:
        """Record ``op``; the rows of the anomalies it proves now (none when streaming: the
        master judges)."""
        if self.stream:
            self.outbox.append(op)
            self.streamed += 1
            return []
        self.ops[op.index] = op
        return self._rows(self.checker.observe(op))

    @property
    def finished(self) -> bool:
        return self.summary is not None

    def finish(self) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """The checker's verdict: rows not reported yet, and this process's summary (streaming:
        how many ops it sent, no verdict of its own)."""
        if self.stream:
            # The process's CPU time since the test started: what producing (and sending) its
            # ops cost, which the master's benchmark sets against what judging them costs.
            self.summary = {"worker": self.worker, "valid": "unknown", "streamed": self.streamed,
                            "cpu_seconds": round(time.process_time() - self.cpu_started, 3)}
            return [], self.summary
        verdict = self.checker.finish()
        self.summary = summary_of(verdict, worker=self.worker, exercised=exercised(list(self.ops.values())))
        rows = self._rows(a for found in verdict.anomalies.values() for a in found)
        return rows, self.summary

    def _rows(self, anomalies: Iterable[Anomaly]) -> list[dict[str, str]]:
        """Rows for the anomalies not reported yet."""
        rows = []
        for anomaly in anomalies:
            key = row_key(anomaly, worker=self.worker)
            if key not in self.sent:
                self.sent.add(key)
                allowed = anomaly.property in self.plan.allowed
                if not allowed:
                    self.violated += 1
                rows.append(violation_row(anomaly, self.ops, base_url=self.base_url, worker=self.worker,
                                          allowed=allowed))
        return rows


__all__ = ["ProcessRun"]
