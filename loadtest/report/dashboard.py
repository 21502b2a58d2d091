"""The live dashboard: a Rich renderable over ``LiveStats``, refreshed from Rich's thread.

``rich.live.Live(Dashboard(live), refresh_per_second=4)`` shows progress against the plan,
the phase, active users, requests and requests/s (over the last few seconds, and overall),
latency per request kind, errors by kind, the nemesis's fault windows (the one in force
marked), and violations as the incremental checker finds them (counts by property, and the
newest few with their explanation).

A frame costs the same whatever the number of operations: it reads counters, asks each
latency histogram for its percentiles in one pass (HDR: bounded by the value range, not the
count) at most once a second, and folds only the anomalies added since the previous frame
into its own counts.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable

from rich.console import Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from loadtest.history import FaultWindow
from loadtest.latency import PERCENTILES, LatencyHistogram
from loadtest.live import FAULT_IN_FORCE, LiveStats
from loadtest.report.summary import latency_table

_NEWEST_SHOWN = 5
_RATE_WINDOW = 5.0   # seconds of samples behind the "now" requests/s figure
_SUMMARY_MAX_AGE = 1.0   # seconds a latency row may lag behind


class Dashboard:
    """A Rich renderable of a running run. Only reads ``live``; keeps its own small state."""

    def __init__(self, live: LiveStats, *, clock: Callable[[], float] = time.monotonic,
                 title: str = "BeatDebate isolation run") -> None:
        self.live = live
        self.title = title
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()
        self._anomalies_seen = 0
        self._phase = live.phase
        self._latency_cache: dict[str, tuple[float, dict[str, float]]] = {}
        self._by_property: Counter[str] = Counter()
        self._by_class: Counter[str] = Counter()

    def __rich__(self) -> RenderableType:
        now = self._clock()
        requests = self.live.requests
        if self.live.phase != self._phase:
            # A new phase (preflight -> running) starts a new rate: no samples from before.
            self._phase = self.live.phase
            self._samples.clear()
        self._samples.append((now, requests))
        while len(self._samples) > 2 and now - self._samples[0][0] > _RATE_WINDOW:
            self._samples.popleft()
        self._fold_anomalies()
        parts: list[RenderableType] = [self._header(requests), self._progress()]
        latency = dict(self.live.latency)          # one C-level copy: the runner may add a kind
        if latency:
            parts.append(latency_table(self._summaries(latency, now), title="latency (ms)"))
        errors = dict(self.live.errors)
        if errors:
            parts.append(Text("errors: " + ", ".join(f"{k} {v:,}" for k, v in sorted(errors.items())),
                              style="red"))
        faults = list(self.live.faults)            # a copy: the nemesis appends as it goes
        if faults:
            parts.append(self._faults(faults))
        parts.append(self._violations())
        return Group(*parts)

    def _summaries(self, latency: dict[str, LatencyHistogram], now: float) -> dict[str, dict[str, float]]:
        # Percentiles cost a pass over the histogram's buckets (milliseconds each at second-scale
        # latencies, whatever the count): one pass for all of them, at most once a second per kind.
        for kind, histogram in latency.items():
            cached = self._latency_cache.get(kind)
            if cached is None or now - cached[0] >= _SUMMARY_MAX_AGE:
                found = histogram.percentiles(PERCENTILES)
                summary = {"count": float(histogram.count), **{f"p{p:g}": v for p, v in found.items()},
                           "max": histogram.max}
                self._latency_cache[kind] = (now, summary)
        return {kind: self._latency_cache[kind][1] for kind in latency}

    def _fold_anomalies(self) -> None:
        # Only the anomalies added since the last frame: the list may grow to thousands.
        found = self.live.anomalies
        end = len(found)
        for anomaly in found[self._anomalies_seen:end]:
            self._by_property[anomaly.property] += 1
            self._by_class[anomaly.cls] += 1
        self._anomalies_seen = end

    def _current_rate(self) -> float:
        (t0, r0), (t1, r1) = self._samples[0], self._samples[-1]
        return (r1 - r0) / (t1 - t0) if t1 > t0 else self.live.requests_per_second

    def _header(self, requests: int) -> Text:
        live = self.live
        text = Text()
        text.append(f"{self.title}  ", style="bold")
        text.append(f"[{live.phase}]  ", style="cyan")
        text.append(f"users {live.active_users:,}  requests {requests:,}  ")
        text.append(f"req/s {self._current_rate():,.0f} (avg {live.requests_per_second:,.0f})  ")
        text.append(f"errors {sum(live.errors.values()):,}", style="red" if live.errors else "")
        return text

    def _progress(self) -> RenderableType:
        live = self.live
        elapsed = live.elapsed
        if live.planned_iterations:
            done, total = float(live.finished_iterations), float(live.planned_iterations)
            label = f"iterations {live.finished_iterations:,}/{live.planned_iterations:,}  elapsed {elapsed:.1f}s"
        elif live.planned_duration:
            done, total = min(elapsed, live.planned_duration), live.planned_duration
            label = f"{elapsed:.1f}s / {total:.0f}s"
        else:
            return Text(f"elapsed {elapsed:.1f}s")
        grid = Table.grid(padding=(0, 1))
        grid.add_row(ProgressBar(total=float(total), completed=float(done), width=40), Text(label))
        return grid

    def _faults(self, windows: list[FaultWindow]) -> Text:
        now = self.live.elapsed
        text = Text("faults: ", style="magenta")
        for index, window in enumerate(windows):
            if index:
                text.append(", ")
            in_force = window.detail == FAULT_IN_FORCE and window.start <= now
            text.append(f"{window.name} {window.start:.1f}–{window.end:.1f}s" + (" (in force)" if in_force else ""),
                        style="bold magenta" if in_force else "")
        return text

    def _violations(self) -> RenderableType:
        if not self._anomalies_seen:
            return Text("violations: none so far", style="green")
        head = Text(f"VIOLATIONS: bleeding {self._by_class['bleeding']:,}, loss {self._by_class['loss']:,}  (",
                    style="bold red")
        head.append(", ".join(f"{name} {count:,}" for name, count in self._by_property.most_common()))
        head.append(")")
        table = Table(show_header=True, padding=(0, 1), title="newest", title_justify="left")
        table.add_column("property")
        table.add_column("class")
        table.add_column("explanation", overflow="ellipsis", no_wrap=True)
        for anomaly in reversed(self.live.anomalies[max(0, self._anomalies_seen - _NEWEST_SHOWN):self._anomalies_seen]):
            table.add_row(anomaly.property, anomaly.cls, anomaly.explanation or anomaly.conversation)
        return Group(head, table)
