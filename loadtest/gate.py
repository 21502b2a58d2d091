"""The CI gate: run every scenario of the target's profile, judge isolation and thresholds, write both reports.

``run_gate`` runs every scenario of the target's profile once (for our contract: every
built-in flow) (a mix's members by name) with at least
``defaults.GATE_MIN_USERS`` users and a fixed seed, judges the thresholds (the caller's, and
the defaults ``defaults.GATE_THRESHOLDS`` on every metric the caller left alone: errors below
1 %, and every scenario's coverage of its planned follow-ups at 90 % or more, so that a
service failing its requests cannot pass hollow; not with a nemesis, whose faults make
requests fail on purpose), and always writes the JSON
and JUnit reports, whatever the outcome, so that a pipeline has something to upload even
when the target never answered. Its exit code is ``loadtest.outcome``'s: 0 all held, 1
isolation violated or nothing checked, 2 usage error, 3 a threshold breached, 4 target
unreachable or the harness failed.

A configuration that cannot run raises ``UsageError`` before any load: the run's options
are validated by ``RunConfig``, as ``simulate``'s are.

The load is the gate's fixed one (``GATE_USERS`` users for ``GATE_DURATION`` seconds, closed
model, fixed seed) unless the caller gives a shape: ``arrival_rate`` (the open model),
``stages`` or ``arrival_stages`` (``loadtest.stages``), or scenario files that carry stages;
``scenarios`` and ``personas`` replace the profile's scenarios and the built-in pool.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from loadtest import defaults
from loadtest.errors import UsageError
from loadtest.oracle.model import Verdict
from loadtest.outcome import ExitCode
from loadtest.personas import PersonaError, load_personas
from loadtest.profiles import Profile, contract_profile
from loadtest.report.conclusion import conclude
from loadtest.result import RunResult
from loadtest.run_config import RunConfig
from loadtest.scenario import (
    Scenario, ScenarioError, builtin_names, load_builtin, resolve_scenarios, shared_load_shape,
)
from loadtest.simulation import run_with_dashboard
from loadtest.stages import Stage
from loadtest.thresholds import Threshold, ThresholdResult, evaluate, parse_thresholds, with_defaults


@dataclass(frozen=True)
class GateConfig:
    target: str | None = None                  # base URL; None starts the embedded server
    thresholds: tuple[Threshold, ...] = ()     # the caller's; each replaces the default on its metric
    default_thresholds: tuple[str, ...] = defaults.GATE_THRESHOLDS   # judged unless replaced; () for none
    json_path: Path = defaults.GATE_JSON
    junit_path: Path = defaults.GATE_JUNIT
    html_path: Path | None = None              # the HTML report, when asked for (loadtest.report.html)
    seed: int = defaults.GATE_SEED
    users: int | None = None                   # None: GATE_USERS, unless the load has another shape
    duration: float | None = None              # seconds of load; None: GATE_DURATION, unless stages set it
    scenarios: tuple[Path, ...] = ()           # scenario files; (): every scenario of the profile
    personas: Path | None = None               # a persona pool file; None: the built-in pool
    arrival_rate: float | None = None          # users per second: the open model
    stages: tuple[Stage, ...] = ()             # users over time (loadtest.stages)
    arrival_stages: tuple[Stage, ...] = ()     # the open model's arrival rate over time
    metrics_port: str | None = None            # serve Prometheus metrics while it runs (loadtest.metrics)
    defect: str | None = None                  # embedded server only
    store: str = defaults.STORE                # embedded server only
    server_workers: int = defaults.SERVER_WORKERS   # embedded server only
    quiet: bool = False
    history_path: Path | None = None           # write the recorded history (JSONL) for `beatdebate check`
    profile: Profile | None = None             # a target that is not ours: how to reach it, what it proves
    allow: tuple[str, ...] = ()                # properties reported without failing (beside the profile's)
    deny: tuple[str, ...] = ()                 # properties that fail even where the profile allows them
    nemesis: tuple[str, ...] = ()              # faults during the run (loadtest.nemesis)
    server_cmd: str | None = None              # a server command started for the run: {port}, {redis}


@dataclass(frozen=True)
class GateOutcome:
    result: RunResult
    thresholds: list[ThresholdResult] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK


def gate_scenarios(profile: Profile | None = None) -> tuple[Scenario, ...]:
    """The scenarios the profile's ``[run] scenarios`` names (for the ``contract`` profile:
    every built-in flow of the session API), each once, a mix's members taken once by name."""
    found: dict[str, Scenario] = {}
    for name in (profile or contract_profile()).run.scenarios or builtin_names():
        for scenario in load_builtin(name):
            found.setdefault(scenario.name, scenario)
    return tuple(found.values())


def run_config(config: GateConfig) -> RunConfig:
    """The runner's configuration for a gate run (fixed seed; every scenario unless files are
    given; the gate's users and duration unless the load has another shape: module doc);
    raises ``UsageError`` for one that cannot run."""
    try:
        scenarios = resolve_scenarios(config.scenarios) if config.scenarios else gate_scenarios(config.profile)
        personas = load_personas(config.personas) if config.personas is not None else None
        from_files = config.users is None and config.duration is None and any(shared_load_shape(scenarios))
    except (ScenarioError, PersonaError) as exc:   # a file that does not load: say which, and where
        raise UsageError(str(exc)) from exc
    # Stages (given, or in the files) set the users and the length; the open model keeps the
    # gate's length; with neither, the gate's own users and length.
    shaped = bool(config.stages or config.arrival_stages or from_files)
    users, duration = config.users, config.duration
    if users is None and not shaped and config.arrival_rate is None:
        users = defaults.GATE_USERS
    if duration is None and not shaped:
        duration = defaults.GATE_DURATION
    return RunConfig(target=config.target, scenarios=scenarios, personas=personas, users=users, duration=duration,
                     arrival_rate=config.arrival_rate, stages=config.stages, arrival_stages=config.arrival_stages,
                     seed=config.seed, defect=config.defect,
                     store=config.store, server_workers=config.server_workers,
                     history_path=config.history_path, profile=config.profile, allow=config.allow,
                     deny=config.deny, nemesis=config.nemesis, server_cmd=config.server_cmd)


def gate_thresholds(config: GateConfig) -> tuple[Threshold, ...]:
    """The thresholds a gate run is judged by: the caller's, then each default on a metric the
    caller did not name (``thresholds.with_defaults``). A run with a nemesis gets no defaults:
    its faults (cut-off requests, a paused worker) fail requests and stop conversations on
    purpose, so an error rate or a coverage fixed in advance would judge the nemesis, not the
    target; the caller gives the thresholds that fit the faults chosen."""
    if config.nemesis:
        return config.thresholds
    return with_defaults(config.thresholds, parse_thresholds(config.default_thresholds, origin="default"))


def failed_result(target: str, error: str, *, settings: dict[str, object], started_at: float) -> RunResult:
    """A run that never got going: nothing checked, the harness error set (exit 4)."""
    return RunResult(target=target, scenarios=(), settings=settings, started_at=started_at, elapsed=0.0,
                     ops=(), verdict=Verdict("unknown", {}), latency={}, harness_error=error)


def run_gate(config: GateConfig, *, console: Console | None = None) -> GateOutcome:
    """Run the gate, write both reports, print unless quiet; returns the outcome and its code.
    Raises ``UsageError`` (nothing run, no report written) for a configuration that cannot run."""
    runner_config = run_config(config)
    thresholds = gate_thresholds(config)
    console = console or Console()
    if config.nemesis and config.default_thresholds:
        console.print(f"note: with --nemesis the default thresholds ({', '.join(config.default_thresholds)}) are "
                      "not judged: the faults fail requests on purpose; give --threshold to judge errors or coverage",
                      style="yellow", highlight=False)
    users = runner_config.planned_users   # None for the open model: its concurrency is the server's doing
    if users is not None and users < defaults.GATE_MIN_USERS:
        console.print(f"note: {users} users is below the gate's {defaults.GATE_MIN_USERS}: "
                      "a quicker, weaker check",
                      style="yellow", highlight=False)
    started_at = time.time()
    try:
        result = run_with_dashboard(runner_config, console=console, quiet=config.quiet, title="beatdebate gate",
                                    metrics_port=config.metrics_port)
    except UsageError:   # the metrics port cannot be served: nothing ran
        raise
    except Exception as exc:  # the runner reports target failures itself; this is a harness bug
        result = failed_result(config.target or "embedded", f"{type(exc).__name__}: {exc}",
                               settings=_settings(config), started_at=started_at)
    judged = evaluate(thresholds, result)
    code = conclude(result, console=console, quiet=config.quiet, thresholds=judged,
                    json_path=config.json_path, junit_path=config.junit_path, html_path=config.html_path)
    html = f" {config.html_path}" if config.html_path is not None else ""
    console.print(f"reports: {config.json_path} {config.junit_path}{html}; exit {int(code)}", highlight=False)
    return GateOutcome(result, judged, code)


def _settings(config: GateConfig) -> dict[str, object]:
    return {"users": config.users, "seed": config.seed, "duration": config.duration,
            "defect": config.defect, "store": config.store, "server_workers": config.server_workers}


__all__ = ["GateConfig", "GateOutcome", "failed_result", "gate_scenarios", "gate_thresholds",
           "run_config", "run_gate"]
