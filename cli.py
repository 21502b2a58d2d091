"""The ``beatdebate`` command line: a thin shell over library functions.

Each command parses its options, calls one library function, prints, and exits with a
documented code. Heavy imports happen inside the commands so that ``--help`` stays fast,
and ``locust`` is never imported here: it monkey-patches the interpreter with gevent, so
``beatdebate locust`` runs it as a subprocess.
"""

from __future__ import annotations

# Typer reads the annotations below at run time, so the names they use are module globals.
import gc
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="beatdebate",
    help="A session-aware music recommender, and a load harness that proves its users stay apart.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
catalog_app = typer.Typer(help="Work with music catalogs.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


# ---- serve -------------------------------------------------------------------


@app.command("serve")
def serve_command(
    host: Annotated[str | None, typer.Option(help="Interface to listen on. \\[default: 127.0.0.1]")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port. \\[default: 8000]")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Worker processes. More than 1 needs a shared (redis://) store. \\[default: 1]")] = None,
    store: Annotated[str | None, typer.Option(
        help="Session store: 'memory' (one process) or a URL such as redis://127.0.0.1:6379/0. "
             "\\[default: memory]")] = None,
    session_ttl: Annotated[float | None, typer.Option(
        help="Idle seconds before a session expires. \\[default: 1800]")] = None,
    max_sessions: Annotated[int | None, typer.Option(
        help="Live sessions held at most; the least recently used is evicted. \\[default: 100000]")] = None,
    history_limit: Annotated[int | None, typer.Option(
        help="Turns kept per session (a count of all turns is kept too). \\[default: 50]")] = None,
    sweep_interval: Annotated[float | None, typer.Option(
        help="Seconds between sweeps for expired sessions (memory store). \\[default: 30]")] = None,
    catalog: Annotated[Path | None, typer.Option(
        help="Catalog file (.jsonl/.csv, optionally .gz). \\[default: the shipped catalog]")] = None,
    primary_timeout: Annotated[float | None, typer.Option(
        help="Seconds the primary recommender may take before the fallback answers. \\[default: 0.25]")] = None,
    fault_rate: Annotated[float | None, typer.Option(
        help="Share (0..1) of primary calls that fail on purpose, to exercise the fallback. \\[default: 0]")] = None,
    fault_latency: Annotated[float | None, typer.Option(
        help="Seconds added to every primary call (past --primary-timeout: a timeout). \\[default: 0]")] = None,
    fault_seed: Annotated[int | None, typer.Option(
        help="Seed of the fault injector's random draws. \\[default: 0]")] = None,
    defect: Annotated[str | None, typer.Option(
        help="Run with a DELIBERATE isolation defect, to prove the checks catch it: "
             "[bold]shared-session[/] (one global session for everybody); "
             "[bold]lost-update[/] (turns read and written back without the lock: concurrent turns lost); "
             "[bold]unscoped-cache[/] (follow-ups cached by query text: another session's page and anchor); "
             "[bold]sticky-refresh[/] (a new session inherits the last deleted session's turns); "
             "[bold]ui-global-session[/] (with --ui: one session id for every browser tab). "
             "\\[default: none]")] = None,
    log_level: Annotated[str | None, typer.Option(help="debug, info, warning or error. \\[default: info]")] = None,
    log_format: Annotated[str | None, typer.Option(help="json (one object per line) or text. \\[default: json]")] = None,
    ui: Annotated[bool | None, typer.Option("--ui/--no-ui",
        help="Also serve the chat page at /ui (needs the extra: pip install 'beatdebate\\[ui]'). \\[default: no]")] = None,
) -> None:
    """Serve the recommender over HTTP (contract v1) until SIGTERM or Ctrl-C.

    Every option can also be set as a BEATDEBATE_* environment variable (e.g.
    BEATDEBATE_STORE); an option given here wins. Exit code 2: settings that cannot be served.
    """
    from pydantic import ValidationError

    from beatdebate_server.serve import ServeRefused, serve
    from beatdebate_server.settings import Settings

    given = {name: value for name, value in locals().items()
             if name in Settings.model_fields and value is not None}
    try:
        settings = Settings(**given)
        serve(settings)
    except ValidationError as exc:
        problems = "; ".join(f"--{'-'.join(map(str, e['loc'])).replace('_', '-')}: {e['msg']}"
                             for e in exc.errors())
        typer.echo(f"error: {problems}", err=True)
        raise typer.Exit(2) from None
    except ServeRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


# ---- catalog -----------------------------------------------------------------


@catalog_app.command("synth")
def catalog_synth(
    tracks: Annotated[int, typer.Option("--tracks", min=1, help="Number of tracks to write.")],
    out: Annotated[Path, typer.Option(
        "--out", dir_okay=False, help="Where to write the JSONL catalog (gzip if it ends .gz).")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same bytes.")] = 0,
) -> None:
    """Write a deterministic synthetic catalog of made-up artists and tracks, for load tests.

    About one artist per 40 tracks; 1,000,000 tracks take a few seconds. Load it with
    [bold]beatdebate catalog check PATH[/bold], or point the server at it.
    """
    from rich.console import Console

    from beatdebate_server.catalog import write_synthetic_catalog

    written = write_synthetic_catalog(out, tracks=tracks, seed=seed)
    Console().print(f"wrote [bold]{written:,}[/bold] tracks to {out} (seed {seed})",
                    soft_wrap=True)


@catalog_app.command("check")
def catalog_check(
    path: Annotated[Path | None, typer.Argument(
        help="A .jsonl or .csv catalog (optionally .gz); omit it to check the shipped one.",
        dir_okay=False)] = None,
) -> None:
    """Load a catalog and print its counts of tracks, artists and genres, or its first error.

    Exit code 0 when the catalog loads, 1 when it does not (the message names the file, the
    line and the field). The schema is in docs/catalog.md.
    """
    from rich.console import Console
    from rich.markup import escape

    from beatdebate_server.catalog import CatalogError, load_catalog

    console = Console()
    try:
        catalog = load_catalog(path)
    except CatalogError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    genres = {genre for track in catalog.tracks for genre in track.genres}
    console.print(f"{path or 'shipped catalog'}: [bold]{len(catalog.tracks):,}[/bold] tracks, "
                  f"[bold]{len(catalog.artists):,}[/bold] artists, "
                  f"[bold]{len(genres)}[/bold] genres ({', '.join(sorted(genres))})",
                  soft_wrap=True)
    raise typer.Exit(0)


# ---- harness -----------------------------------------------------------------


_HARNESS_EXITS = ("Exit codes: 0 every isolation property held; 1 isolation violated (bleeding or loss), "
                  "or nothing was checked; 2 usage error (bad flag, scenario or persona file); "
                  "4 target unreachable or the harness failed.")


def _seconds(text: str) -> float:
    """'20s', '1.5m', '500ms' or a plain number of seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    for suffix in ("ms", "s", "m", "h"):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], units[suffix]
            break
    else:
        scale = 1.0
    try:
        return float(text) * scale
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration such as 20s, 1.5m or 500ms") from None


def _per_second(text: str) -> float:
    try:
        return float(text.removesuffix("/s"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a rate such as 20/s") from None


@app.command("simulate", epilog=_HARNESS_EXITS)
def simulate_command(
    users: Annotated[int, typer.Option(metavar="N", help="Closed model: concurrent virtual users.")] = 50,
    target: Annotated[str | None, typer.Option(metavar="URL",
        help="Base URL of a server speaking the session contract; without it an embedded "
             "`beatdebate serve` is started for the run.")] = None,
    scenario: Annotated[list[Path] | None, typer.Option(metavar="PATH",
        help="A scenario TOML file (docs/scenarios.md); repeatable.")] = None,
    builtin: Annotated[list[str] | None, typer.Option(metavar="NAME",
        help="A built-in scenario by name; repeatable. Default (no --scenario): mixed-traffic.")] = None,
    duration: Annotated[str | None, typer.Option(metavar="DURATION",
        help="How long to load: 20s, 1.5m … \\[default: 20s, or until --iterations are done]")] = None,
    iterations: Annotated[int | None, typer.Option(metavar="N", help="Scenario iterations per user.")] = None,
    ramp_up: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds over which the users start.")] = 2.0,
    think_time: Annotated[float, typer.Option(metavar="SCALE", help="Scale of every think time (0: none).")] = 1.0,
    arrival_rate: Annotated[str | None, typer.Option(metavar="N/s",
        help="Open model: users arrive at N/s whatever the server does (latency from the "
             "intended start).")] = None,
    seed: Annotated[int | None, typer.Option(metavar="N",
        help="Makes personas, scenario choice and think times reproducible. \\[default: random]")] = None,
    timeout: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds per request.")] = 10.0,
    personas: Annotated[Path | None, typer.Option(metavar="PATH", help="A persona pool TOML file.")] = None,
    history: Annotated[Path | None, typer.Option(metavar="PATH",
        help="Write the recorded history (JSONL) here, for `beatdebate check`.")] = None,
    json_path: Annotated[Path | None, typer.Option("--json", metavar="PATH", help="Write a JSON report.")] = None,
    junit_path: Annotated[Path | None, typer.Option("--junit", metavar="PATH", help="Write JUnit XML.")] = None,
    quiet: Annotated[bool, typer.Option(help="Plain logs: a progress line every 5 s and the verdict, "
                                                  "no dashboard or summary tables.")] = False,
    defect: Annotated[str | None, typer.Option(metavar="NAME",
        help="Embedded server only: a deliberate defect (shared-session, lost-update, "
             "unscoped-cache, sticky-refresh), to see the checks fail.")] = None,
    store: Annotated[str, typer.Option(metavar="URL", help="Embedded server only: memory or a redis:// URL.")] = "memory",
    server_workers: Annotated[int, typer.Option(metavar="N", help="Embedded server only: worker processes.")] = 1,
    through: Annotated[str, typer.Option(metavar="api|ui",
        help="api: users call the HTTP API; ui: each user is a tab of the chat page at /ui, "
             "driven over Gradio's client protocol (docs/ui.md).")] = "api",
) -> None:
    """Put virtual users on a target and check every session for context bleeding and loss."""
    from loadtest.personas import PersonaError, load_personas
    from loadtest.runner import RunConfig
    from loadtest.scenario import ScenarioError, resolve_scenarios

    try:
        config = RunConfig(
            target=target, scenarios=resolve_scenarios(scenario or (), builtin or ()),
            personas=load_personas(personas) if personas else None, users=users, ramp_up=ramp_up,
            think_time=think_time, arrival_rate=_per_second(arrival_rate) if arrival_rate else None,
            duration=_seconds(duration) if duration else None, iterations=iterations, seed=seed,
            timeout=timeout, history_path=history, defect=defect, store=store, server_workers=server_workers,
            through=through)  # type: ignore[arg-type]  # RunConfig rejects anything but api/ui
    except (ScenarioError, PersonaError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from rich.console import Console

    from loadtest.gate import run_with_dashboard

    result = run_with_dashboard(config, console=Console(), quiet=quiet, title="beatdebate simulate")
    _harness_report(result, quiet=quiet, json_path=json_path, junit_path=junit_path)


@app.command("check", epilog=_HARNESS_EXITS)
def check_command(
    path: Annotated[Path, typer.Argument(help="A history written by `simulate --history`.")],
    json_path: Annotated[Path | None, typer.Option("--json", metavar="PATH", help="Write a JSON report.")] = None,
    quiet: Annotated[bool, typer.Option(help="The verdict line only.")] = False,
) -> None:
    """Re-check a recorded history offline: the same verdict as the run that recorded it."""
    from loadtest.history import HistoryFormatError
    from loadtest.runner import check_history

    try:
        result = check_history(path)
    except (OSError, HistoryFormatError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    _harness_report(result, quiet=quiet, json_path=json_path, junit_path=None)


def _harness_report(result: object, *, quiet: bool, json_path: Path | None,
                    junit_path: Path | None) -> None:
    from rich.console import Console

    from loadtest.gate import exit_code
    from loadtest.report import render_summary, write_json_report, write_junit
    from loadtest.report.plain import summary_lines

    console = Console()
    if quiet:
        for line in summary_lines(result):  # type: ignore[arg-type]
            console.print(line, highlight=False, soft_wrap=True)
    else:
        render_summary(result, console)  # type: ignore[arg-type]
    if result.verdict.valid == "unknown" and result.harness_error is None:  # type: ignore[attr-defined]
        console.print("nothing was checked: no follow-up completed (are requests failing? see errors above)",
                      style="yellow", highlight=False)
    if json_path is not None:
        write_json_report(result, json_path)  # type: ignore[arg-type]
    if junit_path is not None:
        write_junit(result, junit_path)  # type: ignore[arg-type]
    code = exit_code(result)  # type: ignore[arg-type]
    # The process ends here: freeze the collector so that the interpreter's final full
    # collection does not walk the whole recorded history (≈16 µs per request, measured).
    gc.freeze()
    raise typer.Exit(code)


@app.command("gate")
def gate_command(
    target: Annotated[str | None, typer.Option(metavar="URL",
        help="Base URL of the service under test; without it an embedded server is started.")] = None,
    threshold: Annotated[list[str] | None, typer.Option(metavar="EXPR",
        help="A k6-style threshold, repeatable: 'p99<250ms', 'errors<1%', 'rps>100', "
             "'follow_up.p95<=0.3s'.")] = None,
    json_path: Annotated[Path, typer.Option("--json", metavar="PATH", help="Where to write the JSON report.")]
        = Path("reports/gate.json"),
    junit_path: Annotated[Path, typer.Option("--junit", metavar="PATH", help="Where to write the JUnit XML.")]
        = Path("reports/gate.junit.xml"),
    seed: Annotated[int, typer.Option(metavar="N", help="Seed for personas, think times and mixes.")] = 20261125,
    users: Annotated[int, typer.Option(metavar="N", help="Concurrent virtual users (the gate's verdict needs ≥100).")] = 100,
    duration: Annotated[float, typer.Option(metavar="SECONDS", help="Seconds of load across all scenarios.")] = 20.0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No dashboard or summary: the verdict line only.")] = False,
    defect: Annotated[str | None, typer.Option(metavar="NAME",
        help="Embedded server only: start it with this deliberate defect (shared-session, "
             "lost-update, unscoped-cache, sticky-refresh).")] = None,
    store: Annotated[str, typer.Option(metavar="URL", help="Embedded server only: memory or a redis:// URL.")] = "memory",
    server_workers: Annotated[int, typer.Option(metavar="N", help="Embedded server only: worker processes.")] = 1,
    history: Annotated[Path | None, typer.Option(metavar="PATH",
        help="Also write the recorded history (JSONL), to re-check offline with `beatdebate check`.")] = None,
) -> None:
    """Run every built-in scenario, check isolation and thresholds, write JSON and JUnit reports.

    Exit codes: 0 all held; 1 isolation violated (bleeding or loss) or nothing checked;
    2 usage error (bad flag, threshold or scenario); 3 a threshold breached (isolation held);
    4 target unreachable or the harness failed.
    """
    from loadtest.gate import GateConfig, GateUsageError, run_gate
    from loadtest.thresholds import ThresholdError, parse_thresholds

    try:
        config = GateConfig(target=target, thresholds=parse_thresholds(threshold or ()), json_path=json_path,
                            junit_path=junit_path, seed=seed, users=users, duration=duration, quiet=quiet,
                            defect=defect, store=store, server_workers=server_workers, history_path=history)
        outcome = run_gate(config)
    except (ThresholdError, GateUsageError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    raise typer.Exit(outcome.exit_code)


# ---- locust ------------------------------------------------------------------


@app.command("locust", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def locust_command(
    ctx: typer.Context,
    defect: Annotated[str | None, typer.Option(
        help="Start the embedded server with this deliberate defect (shared-session, "
             "lost-update, unscoped-cache, sticky-refresh).")] = None,
    store: Annotated[str, typer.Option(
        help="The embedded server's session store: memory or a redis:// URL.")] = "memory",
    server_workers: Annotated[int, typer.Option(
        help="Worker processes of the embedded server.")] = 1,
) -> None:
    """Run the Locust scenarios: web dashboard on :8089, or --headless; other arguments go to Locust.

    Without --host, a `beatdebate serve` is started for the run and stopped after it.
    Exit codes: 0 every isolation property held; 1 isolation violated, or nothing was checked;
    2 usage error; 4 the embedded server did not start. See docs/locust.md.
    """
    from loadtest.embedded import EmbeddedServerError
    from loadtest.locust_runner import run_locust

    try:
        code = run_locust(ctx.args, defect=defect, store=store, server_workers=server_workers)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    except EmbeddedServerError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(4) from None
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
