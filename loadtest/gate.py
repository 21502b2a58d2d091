"""The CI gate: run every built-in scenario, judge isolation and thresholds, exit with a code.

Exit codes (``exit_code`` is the one place that maps a run to them; ``simulate`` uses it too):

====  ===============================================================================
0     every isolation property held and every threshold passed
1     isolation violated (context bleeding or loss), or nothing could be checked
2     usage error: a bad flag, threshold or scenario (nothing was run)
3     a threshold was breached while isolation held
4     the target was unreachable or the harness itself failed
====  ===============================================================================

A proven violation outranks a harness failure: its witnesses are recorded answers, so a
run that found bleeding and then lost its target still exits 1.

``run_gate`` always writes both reports (JSON and JUnit), whatever the outcome, so that a
pipeline has something to upload even when the target never answered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.oracle.model import Verdict
from loadtest.report.status import outcome
from loadtest.result import RunResult
from loadtest.runner import RunConfig
from loadtest.scenario import Scenario, ScenarioError, builtin_names, load_builtin
from loadtest.thresholds import Threshold, ThresholdResult, evaluate

if TYPE_CHECKING:
    from rich.console import Console

EXIT_OK = 0
EXIT_ISOLATION = 1
EXIT_USAGE = 2
EXIT_THRESHOLD = 3
EXIT_HARNESS = 4

DEFAULT_JSON = Path("reports/gate.json")
DEFAULT_JUNIT = Path("reports/gate.junit.xml")
DEFAULT_SEED = 20261125
DEFAULT_USERS = 100
DEFAULT_DURATION = 20.0
GATE_MIN_USERS = 100      # the gate's verdict is one with at least this many users (docs/gate.md)


def exit_code(result: RunResult, threshold_results: Sequence[ThresholdResult] = ()) -> int:
    """The process exit code of a run (see the module doc for the table)."""
    state = outcome(result)
    if state in ("fail", "unknown"):
        return EXIT_ISOLATION
    if state == "error":
        return EXIT_HARNESS
    return EXIT_THRESHOLD if any(not item.passed for item in threshold_results) else EXIT_OK


class GateUsageError(ValueError):
    """A gate configuration that cannot run (exit 2); the message says which option."""


@dataclass(frozen=True)
class GateConfig:
    target: str | None = None                  # base URL; None starts the embedded server
    thresholds: tuple[Threshold, ...] = ()
    json_path: Path = DEFAULT_JSON
    junit_path: Path = DEFAULT_JUNIT
    seed: int = DEFAULT_SEED
    users: int = DEFAULT_USERS
    duration: float = DEFAULT_DURATION         # seconds of load across all scenarios
    defect: str | None = None                  # embedded server only
    store: str = "memory"                      # embedded server only
    server_workers: int = 1                    # embedded server only
    quiet: bool = False
    history_path: Path | None = None           # write the recorded history (JSONL) for `beatdebate check`


@dataclass(frozen=True)
class GateOutcome:
    result: RunResult
    thresholds: list[ThresholdResult] = field(default_factory=list)
    exit_code: int = EXIT_OK


def validate(config: GateConfig) -> None:
    """Raise ``GateUsageError`` for options that contradict each other or cannot run."""
    if config.users < 1:
        raise GateUsageError("--users must be at least 1")
    if config.duration <= 0:
        raise GateUsageError("--duration must be positive")
    if config.server_workers < 1:
        raise GateUsageError("--server-workers must be at least 1")
    embedded_only = config.defect is not None or config.store != "memory" or config.server_workers != 1
    if config.target is not None and embedded_only:
        # They would silently do nothing against someone else's server.
        raise GateUsageError("--defect, --store and --server-workers configure the embedded server; "
                             "they cannot be used with --target")
    if config.target is not None and not config.target.startswith(("http://", "https://")):
        raise GateUsageError(f"--target must be an http:// or https:// URL, not {config.target!r}")


def failed_result(target: str, error: str, *, settings: dict[str, object], started_at: float) -> RunResult:
    """A run that never got going: nothing checked, the harness error set (exit 4)."""
    return RunResult(target=target, scenarios=(), settings=settings, started_at=started_at, elapsed=0.0,
                     ops=(), verdict=Verdict("unknown", {}), latency={}, harness_error=error)


def gate_scenarios() -> tuple[Scenario, ...]:
    """Every built-in scenario once: each file's scenarios, a mix's members taken once by name."""
    found: dict[str, Scenario] = {}
    for name in builtin_names():
        for scenario in load_builtin(name):
            found.setdefault(scenario.name, scenario)
    return tuple(found.values())


def run_config(config: GateConfig) -> RunConfig:
    """The runner's configuration for a gate run (closed model, fixed seed, every scenario)."""
    return RunConfig(target=config.target, scenarios=gate_scenarios(), users=config.users,
                     duration=config.duration, seed=config.seed, defect=config.defect,
                     store=config.store, server_workers=config.server_workers,
                     history_path=config.history_path)


def run_gate(config: GateConfig, *, console: Console | None = None) -> GateOutcome:
    """Run the gate, write both reports, print unless quiet; returns the outcome and its code."""
    from rich.console import Console

    from loadtest.report import render_summary, write_json_report, write_junit
    from loadtest.report.plain import summary_lines

    validate(config)
    try:
        runner_config = run_config(config)
    except (ValueError, ScenarioError) as exc:
        raise GateUsageError(str(exc)) from exc
    console = console or Console()
    if config.users < GATE_MIN_USERS:
        console.print(f"note: {config.users} users is below the gate's {GATE_MIN_USERS}: a quicker, weaker check",
                      style="yellow", highlight=False)
    started_at = time.time()
    try:
        result = run_with_dashboard(runner_config, console=console, quiet=config.quiet, title="beatdebate gate")
    except Exception as exc:  # the runner reports target failures itself; this is a harness bug
        result = failed_result(config.target or "embedded", f"{type(exc).__name__}: {exc}",
                               settings=_settings(config), started_at=started_at)
    judged = evaluate(config.thresholds, result)
    code = exit_code(result, judged)
    write_json_report(result, config.json_path, thresholds=judged)
    write_junit(result, config.junit_path, thresholds=judged)
    if config.quiet:
        for line in summary_lines(result):
            console.print(line, highlight=False, soft_wrap=True)
        for item in judged:
            if not item.passed:
                console.print(f"threshold breached: {item.threshold.text} (observed {item.observed_text})",
                              highlight=False)
    else:
        render_summary(result, console, thresholds=judged)
    console.print(f"reports: {config.json_path} {config.junit_path}; exit {code}", highlight=False)
    return GateOutcome(result, judged, code)


def _settings(config: GateConfig) -> dict[str, object]:
    return {"users": config.users, "seed": config.seed, "duration": config.duration,
            "defect": config.defect, "store": config.store, "server_workers": config.server_workers}


def run_with_dashboard(config: RunConfig, *, console: Console, quiet: bool = False,
                       title: str = "beatdebate run") -> RunResult:
    """``runner.run(config)`` under a live ``Dashboard`` on a terminal; with ``quiet`` or in a
    log (not a terminal), plain ``progress …`` lines instead."""
    from loadtest.live import LiveStats
    from loadtest.runner import run

    live = LiveStats()
    if quiet or not console.is_terminal:
        from loadtest.report.plain import plain_progress

        with plain_progress(live, console):
            return run(config, live=live)
    from rich.live import Live

    from loadtest.report import Dashboard

    # transient: the summary that follows replaces the last frame.
    with Live(Dashboard(live, title=title), console=console, refresh_per_second=4, transient=True):
        return run(config, live=live)
