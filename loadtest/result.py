"""What a run produced: the recorded history, its verdict and its measurements.

The runner builds a ``RunResult``; the reports (dashboard summary, JSON, JUnit) and the
gate read it. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loadtest.coverage import ScenarioCoverage
from loadtest.history import FaultWindow, Op
from loadtest.latency import LatencyHistogram
from loadtest.oracle.model import Verdict


@dataclass(frozen=True)
class SkippedPersona:
    """A persona the preflight found the target cannot serve (reported, not a violation)."""

    persona: str
    reason: str


@dataclass(frozen=True)
class RunResult:
    target: str                                   # base URL (or "in-process")
    scenarios: tuple[str, ...]                    # scenario names run
    settings: Mapping[str, Any]                   # users, seed, duration, model … as run
    started_at: float                             # wall-clock epoch seconds
    elapsed: float                                # seconds the load ran
    ops: Sequence[Op]
    verdict: Verdict
    latency: Mapping[str, LatencyHistogram]       # request kind -> histogram ("first_query", "follow_up", "history_read", …)
    errors: Mapping[str, int] = field(default_factory=dict)   # error kind -> count ("http_503", "timeout", …)
    skipped_personas: tuple[SkippedPersona, ...] = ()
    harness_error: str | None = None              # set when the harness itself failed (exit 4)
    # Scenario name -> how far its conversations got (``loadtest.coverage``); empty when the
    # run did not count them (a history judged offline, a run that never started).
    coverage: Mapping[str, ScenarioCoverage] = field(default_factory=dict)
    # When the nemesis had each of its faults in force (``loadtest.nemesis``), on the ops' clock.
    faults: tuple[FaultWindow, ...] = ()

    @property
    def requests(self) -> int:
        return len(self.ops)

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0
