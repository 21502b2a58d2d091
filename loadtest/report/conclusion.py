"""The end of a run as ``simulate``, ``check`` and ``gate`` print it, and the exit code it comes to.

``conclude`` prints the summary (the tables of ``summary.render_summary``, or with ``quiet``
the ``summary …`` / ``violated …`` lines of ``plain.summary_lines`` and one line per breached
threshold), says so when nothing was checked, writes the JSON and JUnit reports it is given
paths for (and the HTML page, from the same JSON report and time series), and returns the exit code (``loadtest.outcome``). Every command that ends a run
goes through it, so that they print and exit alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from loadtest.outcome import ExitCode, exit_code
from loadtest.report.html import write_html_report
from loadtest.report.json_report import write_json_report
from loadtest.report.junit import write_junit
from loadtest.report.plain import summary_lines
from loadtest.report.status import outcome
from loadtest.report.summary import render_summary
from loadtest.report.timeseries import run_time_series
from loadtest.result import RunResult
from loadtest.thresholds import ThresholdResult

NOTHING_CHECKED = "nothing was checked: no follow-up completed (are requests failing? see errors above)"


def conclude(
    result: RunResult,
    *,
    console: Console,
    quiet: bool = False,
    thresholds: Sequence[ThresholdResult] = (),
    json_path: Path | None = None,
    junit_path: Path | None = None,
    html_path: Path | None = None,
) -> ExitCode:
    """Print the end of ``result``, write the reports asked for; returns the run's exit code."""
    if quiet:
        for line in summary_lines(result):
            console.print(line, highlight=False, soft_wrap=True)
        for item in thresholds:
            if not item.passed:
                console.print(f"threshold breached: {item.threshold.text} (observed {item.observed_text})",
                              highlight=False, soft_wrap=True)
    else:
        render_summary(result, console, thresholds=thresholds)
    isolation = outcome(result)
    if isolation == "unknown":   # no harness error to explain it: say what to look at
        console.print(NOTHING_CHECKED, style="yellow", highlight=False)
    if json_path is not None or html_path is not None:
        series = run_time_series(result)   # once, for both: a long run has thousands of buckets
        report = write_json_report(result, json_path, thresholds=thresholds, series=series) if json_path else None
        if html_path is not None:
            write_html_report(result, html_path, thresholds=thresholds, series=series, report=report)
    if junit_path is not None:
        write_junit(result, junit_path, thresholds=thresholds)
    return exit_code(isolation, thresholds)


__all__ = ["NOTHING_CHECKED", "conclude"]
