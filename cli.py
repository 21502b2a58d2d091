"""The ``beatdebate`` command line: it declares the commands, and ends them in one place.

Each command hands its options to one library function; ``_exit`` ends the process with the
code it returns (``loadtest.outcome``) or the one its error carries (``loadtest.errors``).
Only light modules are imported up here, so that ``--help`` stays fast. ``locust`` is never
imported: it monkey-patches the interpreter, so ``beatdebate locust`` runs it as a subprocess.
"""

from __future__ import annotations

# Typer reads the annotations below at run time, so the names they use are module globals.
import gc
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer import Argument, Option

from beatdebate_server.defects.catalog import defect_help
from loadtest import defaults
from loadtest.errors import HarnessError
from loadtest.nemesis.catalog import nemesis_help, parse_nemesis
from loadtest.outcome import ExitCode, exit_codes_help

app = typer.Typer(name="beatdebate", no_args_is_help=True, rich_markup_mode="rich", pretty_exceptions_enable=False,
                  help="A session-aware music recommender, and a load harness that proves its users stay apart.")
catalog_app = typer.Typer(help="Work with music catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")

# Options that several commands share, declared once.
_Target = Annotated[str | None, Option(metavar="URL", help="Base URL of a server that speaks the session "
                                       "contract; without it an embedded `beatdebate serve` is started for the run.")]
_Thresholds = Annotated[list[str] | None, Option("--threshold", metavar="EXPR", help="A k6-style threshold, "
                                                 "repeatable: 'p99<250ms', 'errors<1%', 'follow_up.p95<=0.3s'.")]
_GateThresholds = Annotated[list[str] | None, Option("--threshold", metavar="EXPR", help="A k6-style threshold, "
                                                     "repeatable ('p99<250ms'); the defaults " + ", ".join(
    f"'{text}'" for text in defaults.GATE_THRESHOLDS) + " apply unless one on their metric is given ('errors<=100%' "
    "turns that one off, 'coverage>=0%' the other; none with --nemesis: docs/gate.md).")]
_History = Annotated[Path | None, Option(metavar="PATH", help="Write the recorded history (JSONL) here, to "
                                         "re-check offline with `beatdebate check`.")]
_Quiet = Annotated[bool, Option(help="Plain logs: progress lines, a summary line and the verdict; no dashboard.")]
_Json = Annotated[Path | None, Option("--json", metavar="PATH", help="Write a JSON report.")]
_Html = Annotated[Path | None, Option("--html", metavar="PATH", help="Write an HTML report: one self-contained page "
                                      "with charts over time and every witness (docs/html-report.md).")]
_Defect = Annotated[str | None, Option(metavar="NAME", help="Embedded server only: start it with a deliberate "
                                       f"defect, to see the checks fail: {defect_help()}.")]
_Store = Annotated[str, Option(metavar="URL", help="Embedded server only: its session store, memory or redis://….")]
_Workers = Annotated[int, Option(metavar="N", help="Embedded server only: its worker processes.")]
_Profile = Annotated[str | None, Option(metavar="NAME|PATH", help="How to talk to a target that is not ours, and what its "
                                        "answers can prove: contract (default), beatdebate-original, or a profile TOML "
                                        "file (docs/profiles.md). Properties it cannot prove are 'not checkable'.")]
_Allow = Annotated[list[str] | None, Option("--allow", metavar="PROPERTY", help="Report this property's violations "
                                            "without failing the run; repeatable.")]
_Deny = Annotated[list[str] | None, Option("--deny", metavar="PROPERTY", help="Fail on this property even where the "
                                           "profile allows it; repeatable.")]
_Nemesis = Annotated[list[str] | None, Option(metavar="NAME[,NAME…]", help="Faults during the run, placed from the seed "
                                              f"and shown in every report (docs/nemesis.md): {nemesis_help()}.")]
_Stages = Annotated[str | None, Option(metavar="DUR:USERS,…", help="Users over time, k6's way: "
                                      "'30s:50,1m:200,30s:0' ramps to 50 users over 30 s, to 200 over 1 min, then to "
                                      "none; users past the count stop at the end of their iteration. Sets the run's "
                                      "length; not with --users, --ramp-up, --duration (docs/scenarios.md).")]
_ArrivalStages = Annotated[str | None, Option(metavar="DUR:N/s,…", help="Open model, arrival rate over time: "
                                              "'30s:10/s,1m:100/s' ramps from 0 to 10 users/s over 30 s, then to "
                                              "100/s over 1 min. Sets the run's length; not with --arrival-rate, "
                                              "--duration.")]
_ArrivalRate = Annotated[str | None, Option(metavar="N/s", help="Open model: users arrive at N/s whatever the "
                                            "server does (latency from the intended start).")]
_ScenarioFiles = Annotated[list[Path] | None, Option("--scenario", metavar="PATH", help="A scenario TOML file; "
                                                     "repeatable.")]
_Personas = Annotated[Path | None, Option(metavar="PATH", help="A persona pool TOML file.")]
_MetricsPort = Annotated[str | None, Option(metavar="[HOST:]PORT", help="Serve the harness's Prometheus metrics "
                                            "while it runs at http://HOST:PORT/metrics (HOST: 127.0.0.1 unless "
                                            "given, e.g. 0.0.0.0:9464): requests, latency and errors by kind, "
                                            "violations by property and class.")]
_ServerCmd = Annotated[str | None, Option(metavar="CMD", help="Start this server for the run instead of the embedded "
                                          "one ({port}: where it listens; {redis}: a Redis URL), so that the nemesis "
                                          "can act on it.")]


def _exit(command: Callable[[], int]) -> NoReturn:
    """Run ``command``; exit with the code it returns, or with the one its error carries."""
    try:
        code = command()
    except HarnessError as exc:
        typer.echo(f"error: {exc}", err=True)
        code = exc.exit_code
    # The process ends here: freeze the collector so that the interpreter's final full
    # collection does not walk the whole recorded history (≈16 µs per request, measured).
    gc.freeze()
    raise typer.Exit(int(code))


@app.command("serve", add_help_option=False,
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def serve_command(ctx: typer.Context) -> None:
    """Serve the recommender over HTTP (contract v1) until SIGTERM or Ctrl-C (options: beatdebate serve --help).

    The options are the server's settings, each also a BEATDEBATE_* variable; python -m beatdebate_server is the same."""
    from beatdebate_server.__main__ import main

    _exit(lambda: main(ctx.args, prog="beatdebate serve"))


@catalog_app.command("synth")
def catalog_synth(
    tracks: Annotated[int, Option("--tracks", min=1, help="Number of tracks to write.")],
    out: Annotated[Path, Option("--out", dir_okay=False, help="Where to write the JSONL catalog (.gz: gzipped).")],
    seed: Annotated[int, Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
) -> None:
    """Write a deterministic synthetic catalog of made-up artists and tracks, for load tests.

    About one artist per 40 tracks; check it with [bold]beatdebate catalog check PATH[/bold], or serve it.
    """
    from rich.console import Console

    from beatdebate_server.catalog import write_synthetic_catalog

    written = write_synthetic_catalog(out, tracks=tracks, seed=seed)
    Console().print(f"wrote [bold]{written:,}[/bold] tracks to {out} (seed {seed})", soft_wrap=True)


@catalog_app.command("check")
def catalog_check(
    path: Annotated[Path | None, Argument(
        help="A .jsonl or .csv catalog (optionally .gz); omit it to check the shipped one.", dir_okay=False)] = None,
) -> None:
    """Load a catalog and print its counts of tracks, artists and genres, or its first error.

    Exit code 0 when it loads, 1 when not (the error names the file, line and field). Schema: docs/catalog.md.
    """
    from beatdebate_server.catalog import CatalogError, load_catalog

    try:
        typer.echo(f"{path or 'shipped catalog'}: {load_catalog(path).describe()}")
    except CatalogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@app.command("simulate", epilog=exit_codes_help())
def simulate_command(
    users: Annotated[int | None, Option(metavar="N", help="Closed model: concurrent virtual users. "
                                        f"\\[default: {defaults.USERS}]")] = None,
    target: _Target = None,
    scenario: _ScenarioFiles = None,
    builtin: Annotated[list[str] | None, Option(metavar="NAME", help="A built-in scenario; repeatable. "
                                                "\\[default: mixed-traffic, unless --scenario]")] = None,
    duration: Annotated[str | None, Option(metavar="DURATION", help="How long to load: 20s, 1.5m … "
                                           "\\[default: 20s, or until --iterations are done]")] = None,
    iterations: Annotated[int | None, Option(metavar="N", help="Scenario iterations per user.")] = None,
    ramp_up: Annotated[float | None, Option(metavar="SECONDS", help="Seconds over which users start. "
                                            f"\\[default: {defaults.RAMP_UP:g}]")] = None,
    think_time: Annotated[float, Option(metavar="SCALE", help="Scale of think times (0: none).")] = defaults.THINK_TIME,
    arrival_rate: _ArrivalRate = None,
    stages: _Stages = None,
    arrival_stages: _ArrivalStages = None,
    seed: Annotated[int | None, Option(metavar="N", help="Makes the run reproducible. \\[default: random]")] = None,
    timeout: Annotated[float, Option(metavar="SECONDS", help="Seconds per request.")] = defaults.TIMEOUT,
    personas: _Personas = None,
    history: _History = None,
    json_path: _Json = None,
    junit_path: Annotated[Path | None, Option("--junit", metavar="PATH", help="Write JUnit XML.")] = None,
    metrics_port: _MetricsPort = None,
    html_path: _Html = None,
    threshold: _Thresholds = None,
    quiet: _Quiet = False,
    defect: _Defect = None,
    store: _Store = defaults.STORE,
    server_workers: _Workers = defaults.SERVER_WORKERS,
    through: Annotated[str, Option(metavar="api|ui", help="api: users call the HTTP API; ui: each user is a tab "
                                   "of the chat page at /ui (docs/ui.md).")] = defaults.THROUGH,
    profile: _Profile = None, allow: _Allow = None, deny: _Deny = None,
    nemesis: _Nemesis = None, server_cmd: _ServerCmd = None,
    client: Annotated[str, Option(metavar="auto|lean|aiohttp|httpx", help="The users' HTTP client for a URL "
                                  "target; auto: the lean one for the contract over http://, aiohttp for TLS "
                                  "and target profiles (docs/architecture.md).")] = "auto",
) -> None:
    """Put virtual users on a target and check every session for context bleeding and loss."""
    given = dict(locals())
    from rich.console import Console

    from loadtest.simulation import SimulateOptions, simulate

    _exit(lambda: simulate(SimulateOptions(**given), console=Console()))


@app.command("check", epilog=exit_codes_help((ExitCode.OK, ExitCode.ISOLATION, ExitCode.USAGE)))
def check_command(
    path: Annotated[Path, Argument(help="A history written by `simulate --history`.")],
    json_path: _Json = None,
    html_path: _Html = None,
    quiet: Annotated[bool, Option(help="Plain lines: the summary, each violated property, the verdict.")] = False,
    profile: _Profile = None, allow: _Allow = None, deny: _Deny = None,
) -> None:
    """Re-check a recorded history offline: the same verdict as the run that recorded it (its profile's evidence
    and allowed properties are in the file; --profile, --allow and --deny judge it otherwise)."""
    from rich.console import Console

    from loadtest.simulation import recheck

    _exit(lambda: recheck(path, console=Console(), quiet=quiet, json_path=json_path, profile=profile,
                          allow=allow or (), deny=deny or (), html_path=html_path))


@app.command("gate", epilog=exit_codes_help())
def gate_command(
    target: _Target = None,
    threshold: _GateThresholds = None,
    json_path: Annotated[Path, Option("--json", metavar="PATH", help="The JSON report.")] = defaults.GATE_JSON,
    junit_path: Annotated[Path, Option("--junit", metavar="PATH", help="The JUnit XML.")] = defaults.GATE_JUNIT,
    html_path: _Html = None,
    seed: Annotated[int, Option(metavar="N", help="Seed for personas, think times and mixes.")] = defaults.GATE_SEED,
    users: Annotated[int | None, Option(metavar="N", help="Concurrent virtual users (the gate's verdict needs "
                                        f"≥{defaults.GATE_MIN_USERS}). \\[default: {defaults.GATE_USERS}, "
                                        "unless the load has another shape]")] = None,
    duration: Annotated[str | None, Option(metavar="DURATION", help="Load across all scenarios: 20s, 1.5m … (a "
                                           f"bare number: seconds). \\[default: {defaults.GATE_DURATION:g}s, "
                                           "unless stages set it]")] = None,
    scenario: _ScenarioFiles = None,
    personas: _Personas = None,
    arrival_rate: _ArrivalRate = None,
    stages: _Stages = None,
    arrival_stages: _ArrivalStages = None,
    metrics_port: _MetricsPort = None,
    quiet: _Quiet = False,
    defect: _Defect = None,
    store: _Store = defaults.STORE,
    server_workers: _Workers = defaults.SERVER_WORKERS,
    history: _History = None,
    profile: _Profile = None, allow: _Allow = None, deny: _Deny = None,
    nemesis: _Nemesis = None, server_cmd: _ServerCmd = None,
) -> None:
    """Run every scenario of the target's profile (ours: every built-in; or the --scenario files), check isolation
    and thresholds, write JSON and JUnit reports."""
    from loadtest.gate import GateConfig, run_gate
    from loadtest.simulation import resolve_profile
    from loadtest.stages import parse_arrival_stages, parse_stages
    from loadtest.thresholds import parse_thresholds
    from loadtest.units import parse_duration, parse_rate

    _exit(lambda: run_gate(GateConfig(
        target=target, thresholds=parse_thresholds(threshold or ()), json_path=json_path, junit_path=junit_path,
        html_path=html_path,
        seed=seed, users=users, duration=parse_duration(duration) if duration is not None else None, quiet=quiet,
        defect=defect, store=store, server_workers=server_workers, history_path=history,
        profile=resolve_profile(profile), allow=tuple(allow or ()), deny=tuple(deny or ()),
        nemesis=parse_nemesis(nemesis), server_cmd=server_cmd, scenarios=tuple(scenario or ()), personas=personas,
        arrival_rate=parse_rate(arrival_rate) if arrival_rate is not None else None,
        stages=parse_stages(stages) if stages is not None else (),
        arrival_stages=parse_arrival_stages(arrival_stages) if arrival_stages is not None else (),
        metrics_port=metrics_port)).exit_code)


@app.command("compare", epilog="Exit codes: 0 no new violation, every threshold held; 1 NEW violates a property "
             "BASE did not, or checked nothing; 2 usage error (a file that is not a report, a bad threshold); 3 a threshold breached.")
def compare_command(
    base: Annotated[Path, Argument(help="The JSON report to compare against (--json of a run, or gate's).")],
    new: Annotated[Path, Argument(help="The JSON report of the run to judge.")],
    threshold: Annotated[list[str] | None, Option("--threshold", metavar="EXPR", help="A limit on a change, "
                                                  "repeatable: 'p99<+10%', 'follow_up.p90<+20ms', 'errors<+0.5pp', "
                                                  "'rps>-5%'.")] = None,
    html_path: Annotated[Path | None, Option("--html", metavar="PATH", help="Write the comparison as a page.")] = None,
) -> None:
    """Compare two runs' JSON reports: latency per kind, throughput, errors, coverage, violations (docs/html-report.md)."""
    from rich.console import Console

    from loadtest.report.compare import run_compare

    _exit(lambda: run_compare(base, new, thresholds=threshold or (), html_path=html_path, console=Console()))


@app.command("locust", epilog=exit_codes_help((ExitCode.OK, ExitCode.ISOLATION, ExitCode.USAGE, ExitCode.HARNESS)),
             context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def locust_command(
    ctx: typer.Context, defect: _Defect = None, store: _Store = defaults.STORE,
    server_workers: _Workers = defaults.SERVER_WORKERS,
    profile: _Profile = None, allow: _Allow = None, deny: _Deny = None,
) -> None:
    """Run the Locust scenarios: web dashboard on :8089, or --headless; other arguments go to Locust.

    Without --host, a `beatdebate serve` is started for the run and stopped after it. See docs/locust.md.
    """
    from loadtest.locust_runner import run_locust

    _exit(lambda: run_locust(ctx.args, defect=defect, store=store, server_workers=server_workers, profile=profile,
                             allow=allow or (), deny=deny or ()))


if __name__ == "__main__":
    app()
