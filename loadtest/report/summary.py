"""The end-of-run summary: what was sent, how fast it came back, which properties held.

``render_summary`` prints, in order: the run table (requests, throughput, errors), latency
per request kind, errors by kind, coverage per scenario (conversations started, completed,
failed and cut; follow-ups planned and checked: ``loadtest.coverage``), skipped personas,
the property table (every property in ``PROPERTIES``:
held / VIOLATED (count) / not exercised / not checkable), thresholds when given, the verdict
line, and for each violated property its first witness with a curl command that replays it.
A run with a nemesis also gets a table of its fault windows, and a witness inside one its note
(``explain.fault_note``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loadtest.coverage import ScenarioCoverage
from loadtest.history import FaultWindow
from loadtest.oracle.explain import fault_note
from loadtest.report.replay import replay_for
from loadtest.report.status import (
    PropertyStatus,
    format_ms,
    ops_by_index,
    outcome,
    property_statuses,
    target_url,
    verdict_line,
    witness_text,
)
from loadtest.result import RunResult
from loadtest.thresholds import ThresholdResult

_VERDICT_STYLE = {"pass": "bold green", "fail": "bold red", "unknown": "bold yellow", "error": "bold red"}
_SETTINGS_SHOWN = ("users", "seed", "duration", "iterations", "model")


def _run_table(result: RunResult) -> Table:
    table = Table(title="Run", show_header=False, title_justify="left")
    table.add_column("what", style="bold")
    table.add_column("value")
    table.add_row("target", result.target)
    table.add_row("scenarios", ", ".join(result.scenarios) or "-")
    for key in _SETTINGS_SHOWN:
        if result.settings.get(key) is not None:
            table.add_row(key, str(result.settings[key]))
    failed = sum(op.status == "fail" for op in result.ops)
    unknown = sum(op.status == "unknown" for op in result.ops)
    table.add_row("requests", f"{result.requests:,} ({failed:,} failed, {unknown:,} unknown)")
    table.add_row("elapsed", f"{result.elapsed:.1f} s")
    table.add_row("throughput", f"{result.throughput:,.1f} req/s")
    checked = result.verdict.checked
    table.add_row("checked", f"{checked.sessions:,} sessions, {checked.follow_ups:,} follow-ups, "
                             f"{checked.history_reads:,} history reads")
    return table


def latency_table(summaries: Mapping[str, Mapping[str, float]], *, title: str = "Latency (ms)") -> Table:
    """Per request kind: count, p50, p90, p99, p99.9, max; ``summaries`` maps kind ->
    ``LatencyHistogram.summary()``."""
    table = Table(title=title, title_justify="left")
    table.add_column("kind")
    for heading in ("count", "p50", "p90", "p99", "p99.9", "max"):
        table.add_column(heading, justify="right")
    for kind in sorted(summaries):
        summary = summaries[kind]
        table.add_row(kind, f"{int(summary['count']):,}",
                      *(format_ms(summary[key]) for key in ("p50", "p90", "p99", "p99.9", "max")))
    return table


def _errors_table(errors: Mapping[str, int]) -> Table:
    table = Table(title="Errors", title_justify="left")
    table.add_column("kind")
    table.add_column("count", justify="right")
    for kind in sorted(errors):
        table.add_row(kind, f"{errors[kind]:,}")
    return table


def coverage_table(coverage: Mapping[str, ScenarioCoverage]) -> Table:
    """Per scenario: its conversations by outcome, its follow-ups planned and checked, and the
    share checked ("n/a" where the scenario plans none)."""
    table = Table(title="Coverage: conversations, and the follow-ups they planned and checked", title_justify="left")
    table.add_column("scenario", no_wrap=True)
    for heading in ("started", "completed", "failed", "cut", "planned", "checked", "coverage"):
        table.add_column(heading, justify="right")
    for name in sorted(coverage):
        entry = coverage[name]
        share = "n/a" if not entry.applicable else "-" if entry.share is None else f"{entry.share:.1%}"
        table.add_row(name, f"{entry.started:,}", f"{entry.completed:,}", f"{entry.failed:,}", f"{entry.cut:,}",
                      f"{entry.planned:,}", f"{entry.checked:,}", share)
    return table


def faults_table(windows: Sequence[FaultWindow]) -> Table:
    """The nemesis's fault windows: fault, from, to (seconds since the load started), what it did."""
    table = Table(title="Fault windows (nemesis)", title_justify="left")
    table.add_column("fault", no_wrap=True)
    table.add_column("from", justify="right")
    table.add_column("to", justify="right")
    table.add_column("what was done")
    for window in windows:
        table.add_row(window.name, f"{window.start:.1f} s", f"{window.end:.1f} s", window.detail)
    return table


def _properties_table(statuses: Sequence[PropertyStatus]) -> Table:
    table = Table(title="Isolation properties", title_justify="left")
    table.add_column("property")
    table.add_column("class")
    table.add_column("status")
    table.add_column("what it means")
    for status in statuses:
        if status.state == "violated":
            shown = Text(f"VIOLATED ({status.count:,})", style="bold red")
        elif status.state == "allowed":
            shown = Text(f"allowed ({status.count:,})", style="yellow")
        elif status.state == "held":
            shown = Text("held", style="green")
        elif status.state == "not_checkable":
            shown = Text("not checkable", style="dim")
        else:
            shown = Text("not exercised", style="yellow")
        table.add_row(status.property, status.cls, shown, status.description)
    return table


def _thresholds_table(judged: Sequence[ThresholdResult]) -> Table:
    table = Table(title="Thresholds", title_justify="left")
    table.add_column("threshold")
    table.add_column("observed", justify="right")
    table.add_column("result")
    for item in judged:
        verdict = Text("pass", style="green") if item.passed else Text("BREACHED", style="bold red")
        observed = item.observed_text if not item.note else f"{item.observed_text} ({item.note})"
        origin = " (default)" if item.threshold.origin == "default" else ""
        table.add_row(item.threshold.text + origin, observed, verdict)
    return table


def render_summary(
    result: RunResult,
    console: Console,
    *,
    base_url: str | None = None,
    thresholds: Sequence[ThresholdResult] = (),
    properties: Mapping[str, tuple[str, str]] | None = None,
) -> None:
    """Print the run's summary, property table, verdict line and first witnesses.

    When the harness failed before a single request was recorded (the target unreachable,
    say), there is nothing to tabulate: the run table and the error line say it all.
    """
    console.print(_run_table(result))
    if result.harness_error is not None and not result.ops:
        console.print(Text(verdict_line(result), style=_VERDICT_STYLE[outcome(result)]),
                      soft_wrap=True)
        return
    if result.latency:
        console.print(latency_table({kind: h.summary() for kind, h in result.latency.items()}))
    if result.errors:
        console.print(_errors_table(result.errors))
    if result.coverage:
        console.print(coverage_table(result.coverage))
    if result.faults:
        console.print(faults_table(result.faults))
    for skipped in result.skipped_personas:
        console.print(f"[yellow]skipped persona[/] {skipped.persona}: {skipped.reason}")
    statuses = property_statuses(result, properties=properties)
    console.print(_properties_table(statuses))
    if thresholds:
        console.print(_thresholds_table(thresholds))
    console.print(Text(verdict_line(result), style=_VERDICT_STYLE[outcome(result)]))
    breached = [item.threshold.text for item in thresholds if not item.passed]
    if breached:
        console.print(Text(f"thresholds breached: {', '.join(breached)}", style="bold red"))
    _print_witnesses(result, statuses, console, base_url=target_url(result, base_url))


def _print_witnesses(
    result: RunResult,
    statuses: Sequence[PropertyStatus],
    console: Console,
    *,
    base_url: str | None,
) -> None:
    violated = [s for s in statuses if s.first is not None]
    if not violated:
        return
    ops = ops_by_index(result.ops)
    replay = replay_for(result.settings)
    for status in violated:
        assert status.first is not None
        text, curl = witness_text(status.first, ops, base_url, replay)
        console.print(Text(f"{status.property}: {status.count:,} found; the first witness:", style="bold"))
        console.print(Text(text), soft_wrap=True)
        note = fault_note(status.first, ops, result.faults)
        if note is not None:
            console.print(Text(f"  {note}", style="magenta"), soft_wrap=True)
        if curl:
            # soft_wrap: a curl command must stay one copyable line, whatever the width.
            console.print(Text(curl, style="cyan"), soft_wrap=True)
