"""Plain-text progress for logs: what ``--quiet`` and a non-terminal (a CI log) print.

One line every few seconds while the run goes on, in a fixed ``key=value`` shape so that a
log reader or a grep finds the same fields every time, e.g.::

    progress t=10.0s phase=running users=100 requests=4210 rps=421.0 errors=0 violations=0
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from loadtest.coverage import ScenarioCoverage
from loadtest.live import LiveStats
from loadtest.report.status import class_counts, property_statuses, verdict_line
from loadtest.result import RunResult

PROGRESS_EVERY = 5.0  # seconds between progress lines


def progress_line(live: LiveStats) -> str:
    """One ``progress …`` line from the live figures."""
    return (f"progress t={live.elapsed:.1f}s phase={live.phase} users={live.active_users} "
            f"requests={live.requests} rps={live.requests_per_second:.1f} "
            f"errors={sum(live.errors.values())} violations={len(live.anomalies)}")


@contextmanager
def plain_progress(live: LiveStats, console: Console, *, every: float = PROGRESS_EVERY) -> Iterator[None]:
    """Print ``progress_line(live)`` every ``every`` seconds from a daemon thread while the block runs.

    A thread, not a task: the run owns its event loop, and a stalled loop is exactly when a
    log line is worth having.
    """
    done = threading.Event()

    def report() -> None:
        while not done.wait(every):
            console.print(progress_line(live), highlight=False, soft_wrap=True)

    thread = threading.Thread(target=report, name="beatdebate-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=every)


def coverage_line(entry: ScenarioCoverage) -> str:
    """One ``coverage …`` line: a scenario's conversations and follow-ups (``loadtest.coverage``)."""
    share = "n/a" if not entry.applicable else "-" if entry.share is None else f"{entry.share * 100:.1f}%"
    return (f"coverage scenario={entry.scenario} started={entry.started} completed={entry.completed} "
            f"failed={entry.failed} cut={entry.cut} planned={entry.planned} checked={entry.checked} share={share}")


def summary_lines(result: RunResult) -> list[str]:
    """The end of a plain log: one ``summary …`` line, one ``coverage …`` line per scenario, one
    ``violated …`` line per violated property (with its first witness in prose), then the
    verdict line."""
    checked = result.verdict.checked
    counts = class_counts(result)
    follow_up = result.latency.get("follow_up")
    p99 = f"{follow_up.percentile(99.0) * 1000:.1f}ms" if follow_up is not None and follow_up.count else "-"
    lines = [f"summary requests={result.requests} rps={result.throughput:.1f} sessions={checked.sessions} "
             f"follow_ups_checked={checked.follow_ups} history_reads={checked.history_reads} "
             f"follow_up_p99={p99} errors={sum(result.errors.values())} "
             f"bleeding={counts['bleeding']} loss={counts['loss']}"]
    if result.ops:   # a run that sent nothing has no conversation to tell of
        lines += [coverage_line(result.coverage[name]) for name in sorted(result.coverage)]
    for status in property_statuses(result):
        if status.state in ("violated", "allowed") and status.first is not None:
            lines.append(f"{status.state} {status.property} class={status.cls} count={status.count}: "
                         f"{status.first.explanation}")
    lines.append(verdict_line(result))
    return lines
