"""``beatdebate simulate`` and ``beatdebate check`` as library functions: options in, exit code out.

Terms:
- ``SimulateOptions``: a simulation as the command line asks for it, in the user's words
  (file paths, built-in names, ``20s``, ``40/s``, ``p99<250ms``). ``run_config`` turns it
  into a validated ``RunConfig``; anything that cannot run is a ``UsageError`` (exit 2),
  including a bad scenario or persona file, before any load.
- ``run_with_dashboard``: the runner under a live ``Dashboard`` on a terminal, or plain
  ``progress …`` lines in a log (or with ``quiet``). ``gate`` runs through it too.

Both commands end with ``report.conclude``: the same summary, reports and exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.live import Live

from loadtest import defaults
from loadtest.errors import UsageError
from loadtest.history import HistoryFormatError
from loadtest.live import LiveStats
from loadtest.metrics import serve_metrics
from loadtest.nemesis.catalog import parse_nemesis
from loadtest.outcome import ExitCode
from loadtest.personas import PersonaError, load_personas
from loadtest.profiles import Profile, ProfileError, load_profile
from loadtest.report.conclusion import conclude
from loadtest.report.dashboard import Dashboard
from loadtest.report.plain import plain_progress
from loadtest.result import RunResult
from loadtest.run_config import RunConfig
from loadtest.runner import check_history, run
from loadtest.scenario import ScenarioError, resolve_scenarios
from loadtest.stages import parse_arrival_stages, parse_stages
from loadtest.target import parse_surface
from loadtest.thresholds import evaluate, parse_thresholds
from loadtest.units import parse_duration, parse_rate


@dataclass(frozen=True, kw_only=True)
class SimulateOptions:
    """A simulation as asked for; the fields are ``beatdebate simulate``'s options."""

    users: int | None = None                     # None: defaults.USERS (unless stages set the users)
    target: str | None = None
    scenario: Sequence[Path] | None = None       # scenario TOML files
    builtin: Sequence[str] | None = None         # built-in scenario names
    duration: str | None = None                  # "20s", "1.5m" …
    iterations: int | None = None
    ramp_up: float | None = None                 # None: defaults.RAMP_UP
    think_time: float = defaults.THINK_TIME
    arrival_rate: str | None = None              # "40/s": the open model
    stages: str | None = None                    # "30s:50,1m:200,30s:0": users over time (loadtest.stages)
    arrival_stages: str | None = None            # "30s:10/s,1m:100/s": the open model's rate over time
    metrics_port: str | None = None              # "9464" or "HOST:9464": Prometheus metrics (loadtest.metrics)
    seed: int | None = None
    timeout: float = defaults.TIMEOUT
    personas: Path | None = None
    history: Path | None = None
    json_path: Path | None = None
    junit_path: Path | None = None
    html_path: Path | None = None                # the HTML report (loadtest.report.html)
    threshold: Sequence[str] | None = None       # "p99<250ms" …
    quiet: bool = False
    defect: str | None = None
    store: str = defaults.STORE
    server_workers: int = defaults.SERVER_WORKERS
    through: str = defaults.THROUGH
    profile: str | None = None                   # a built-in profile name or a profile file
    allow: Sequence[str] | None = None           # properties reported without failing the run
    deny: Sequence[str] | None = None            # properties that fail even where the profile allows them
    nemesis: str | Sequence[str] | None = None   # faults during the run: "pause-worker,abort" (loadtest.nemesis)
    server_cmd: str | None = None                # a server command started for the run: {port}, {redis}
    client: str = "auto"                         # the users' HTTP client (RunConfig.client)


def run_config(options: SimulateOptions) -> RunConfig:
    """The validated ``RunConfig`` of ``options``; raises ``UsageError`` saying what cannot run."""
    try:
        return RunConfig(
            # None asked for: RunConfig picks the profile's scenarios, or the built-in mix.
            target=options.target, scenarios=resolve_scenarios(options.scenario or (), options.builtin or ())
            if options.scenario or options.builtin else (),
            personas=load_personas(options.personas) if options.personas else None, users=options.users,
            ramp_up=options.ramp_up, think_time=options.think_time,
            arrival_rate=parse_rate(options.arrival_rate) if options.arrival_rate else None,
            stages=parse_stages(options.stages) if options.stages is not None else (),
            arrival_stages=parse_arrival_stages(options.arrival_stages) if options.arrival_stages is not None else (),
            duration=parse_duration(options.duration) if options.duration else None,
            iterations=options.iterations, seed=options.seed, timeout=options.timeout,
            history_path=options.history, defect=options.defect, store=options.store,
            server_workers=options.server_workers, through=parse_surface(options.through),
            profile=resolve_profile(options.profile), allow=tuple(options.allow or ()),
            deny=tuple(options.deny or ()), nemesis=parse_nemesis(options.nemesis), server_cmd=options.server_cmd,
            client=options.client)
    except (ScenarioError, PersonaError) as exc:   # their messages name the file, line and field
        raise UsageError(str(exc)) from exc


def simulate(options: SimulateOptions, *, console: Console) -> ExitCode:
    """Run the simulation, print its end, write the reports asked for; returns the exit code.
    Raises ``UsageError`` (nothing run) for options that cannot run."""
    config = run_config(options)
    thresholds = parse_thresholds(options.threshold or ())
    result = run_with_dashboard(config, console=console, quiet=options.quiet, title="beatdebate simulate",
                                metrics_port=options.metrics_port)
    return conclude(result, console=console, quiet=options.quiet, thresholds=evaluate(thresholds, result),
                    json_path=options.json_path, junit_path=options.junit_path, html_path=options.html_path)


def resolve_profile(name_or_path: str | None) -> Profile | None:
    """The profile ``--profile`` names (None: the contract); a ``UsageError`` naming the file,
    line and key when it does not load."""
    if name_or_path is None:
        return None
    try:
        return load_profile(name_or_path)
    except ProfileError as exc:
        raise UsageError(str(exc)) from exc


def recheck(path: Path, *, console: Console, quiet: bool = False, json_path: Path | None = None,
            profile: str | None = None, allow: Sequence[str] = (), deny: Sequence[str] = (),
            html_path: Path | None = None) -> ExitCode:
    """``beatdebate check``: judge a recorded history offline, print, report; the exit code.
    The history's header says how its run judged it (profile evidence, allowed properties);
    ``profile``, ``allow`` and ``deny`` override that. Raises ``UsageError`` for a file that
    cannot be read as a history."""
    try:
        result = check_history(path, profile=resolve_profile(profile), allow=allow, deny=deny)
    except (OSError, HistoryFormatError) as exc:
        raise UsageError(str(exc)) from exc
    return conclude(result, console=console, quiet=quiet, json_path=json_path, html_path=html_path)


def run_with_dashboard(config: RunConfig, *, console: Console, quiet: bool = False,
                       title: str = "beatdebate run", metrics_port: str | None = None) -> RunResult:
    """``runner.run(config)`` under a live ``Dashboard`` on a terminal; with ``quiet`` or in a
    log (not a terminal), plain ``progress …`` lines instead. ``metrics_port`` (``9464`` or
    ``HOST:9464``): Prometheus metrics of the run served there while it runs (``loadtest.metrics``)."""
    live = LiveStats()
    with serve_metrics(live, metrics_port) as serving:
        if serving is not None:
            console.print(f"metrics: http://{serving[0]}:{serving[1]}/metrics", highlight=False)
        if quiet or not console.is_terminal:
            with plain_progress(live, console):
                return run(config, live=live)
        # transient: the summary that follows replaces the last frame.
        with Live(Dashboard(live, title=title), console=console, refresh_per_second=4, transient=True):
            return run(config, live=live)


__all__ = ["SimulateOptions", "recheck", "resolve_profile", "run_config", "run_with_dashboard", "simulate"]
