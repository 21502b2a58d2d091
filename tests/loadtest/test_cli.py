"""`beatdebate simulate` and `beatdebate check`: parse, run, print, exit with the documented code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fakes import FakeServer, write_persona_catalog
from typer.testing import CliRunner

from cli import app
from loadtest.runner import RunConfig, run

runner = CliRunner()


@pytest.fixture
def persona_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded server (a child process: it inherits the environment) serves every persona."""
    path = write_persona_catalog(tmp_path / "catalog.jsonl")
    monkeypatch.setenv("BEATDEBATE_CATALOG", str(path))
    return path


def _verdict_line(output: str) -> str:
    return next(line for line in output.splitlines() if re.match(r"^(PASS|FAIL|UNKNOWN|ERROR)", line))


def test_a_bad_scenario_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "my.toml"
    bad.write_text('name = "x"\n[[steps]]\nquery = "hi"\nexpect = { kind = "bogus" }\n')
    result = runner.invoke(app, ["simulate", "--scenario", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:4: steps[0].expect.kind: must be one of by_artist" in result.output


@pytest.mark.parametrize("args", [["--duration", "soon"], ["--arrival-rate", "fast"], ["--users", "0"],
                                  ["--builtin", "nope"], ["--target", "http://x", "--defect", "shared-session"]])
def test_bad_flags_are_usage_errors(args: list[str]) -> None:
    assert runner.invoke(app, ["simulate", *args]).exit_code == 2


def test_an_unreachable_target_exits_4() -> None:
    result = runner.invoke(app, ["simulate", "--target", "http://127.0.0.1:9", "--users", "2", "--quiet",
                                 "--timeout", "2"])
    assert result.exit_code == 4
    assert "target unreachable" in result.output


def test_check_rejudges_a_recorded_history(tmp_path: Path) -> None:
    history = tmp_path / "leaky.jsonl"
    run(RunConfig(http_transport=FakeServer(leaky=True).transport, users=4, iterations=1, think_time=0,
                  seed=3, history_path=history))
    result = runner.invoke(app, ["check", str(history), "--json", str(tmp_path / "r.json")])
    assert result.exit_code == 1
    assert "foreign-anchor" in result.output and _verdict_line(result.output).startswith("FAIL")
    assert (tmp_path / "r.json").is_file()
    not_history = tmp_path / "x.jsonl"
    not_history.write_text('{"format": "other"}\n')
    assert runner.invoke(app, ["check", str(not_history)]).exit_code == 2


@pytest.mark.slow
def test_simulate_on_the_embedded_server_passes_and_check_agrees(tmp_path: Path, persona_catalog: Path) -> None:
    history, report = tmp_path / "run.jsonl", tmp_path / "run.json"
    result = runner.invoke(app, ["simulate", "--users", "6", "--duration", "4s", "--ramp-up", "0.5", "--seed", "1",
                                 "--think-time", "0.3", "--history", str(history), "--json", str(report),
                                 "--junit", str(tmp_path / "run.xml")])
    assert result.exit_code == 0, result.output
    assert _verdict_line(result.output) == "PASS"
    assert history.is_file() and report.is_file() and (tmp_path / "run.xml").is_file()
    again = runner.invoke(app, ["check", str(history)])
    assert again.exit_code == 0, again.output
    assert _verdict_line(again.output) == "PASS"


@pytest.mark.slow
def test_simulate_with_the_shared_session_defect_fails_naming_the_property(persona_catalog: Path) -> None:
    result = runner.invoke(app, ["simulate", "--users", "6", "--duration", "3s", "--ramp-up", "0.2", "--seed", "2",
                                 "--think-time", "0.2", "--defect", "shared-session"])
    assert result.exit_code == 1, result.output
    assert _verdict_line(result.output).startswith("FAIL: bleeding")
    assert "foreign-request-id" in result.output or "foreign-anchor" in result.output


@pytest.mark.parametrize(("args", "said"), [
    (["--threshold", "p99<fast"], "bad threshold 'p99<fast'"),
    (["--duration", "5parsecs"], "not a duration"),
    (["--through", "tab"], "--through must be one of api, ui"),
    (["--defect", "no-such-defect"], "no defect 'no-such-defect'"),
    (["--defect", "ui-global-session"], "use --through ui"),      # a chat page's defect, on the API
    (["--target", "http://x", "--store", "redis://127.0.0.1:6379/0"], "configure the embedded server"),
])
def test_usage_errors_say_why_and_run_nothing(args: list[str], said: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = runner.invoke(app, ["simulate", *args, "--json", str(report)])
    assert result.exit_code == 2, result.output
    assert said in result.output
    assert not report.exists()


def test_simulate_takes_every_option_of_the_library_and_no_other() -> None:
    # The command hands its options over by name: both lists must stay the same.
    import dataclasses

    import typer.main

    from loadtest.simulation import SimulateOptions

    command = typer.main.get_command(app).commands["simulate"]  # type: ignore[attr-defined]
    assert {param.name for param in command.params} == {f.name for f in dataclasses.fields(SimulateOptions)}
    defaults = {param.name: param.default for param in command.params}
    assert all(defaults[f.name] == f.default for f in dataclasses.fields(SimulateOptions)), defaults


@pytest.mark.parametrize(("command", "codes"), [
    ("simulate", "01234"), ("gate", "01234"), ("check", "012"), ("locust", "0124")])
def test_each_command_lists_the_exit_codes_it_can_end_with(command: str, codes: str) -> None:
    from loadtest.outcome import MEANINGS, ExitCode

    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "300", "NO_COLOR": "1"})
    text = " ".join(result.output.replace("│", " ").split())
    for code in ExitCode:
        assert (f"{int(code)} {MEANINGS[code]}" in text) == (str(int(code)) in codes), (command, code)


def test_help_loads_neither_the_runner_nor_the_server() -> None:
    import os
    import subprocess
    import sys

    probe = ("import sys, cli\ncli.app(['simulate', '--help'], standalone_mode=False)\n"
             "print(sorted(m for m in ('loadtest.runner', 'loadtest.scenario', 'aiohttp', 'fastapi', 'locust') "
             "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stderr


@pytest.mark.slow
def test_simulate_with_a_breached_threshold_exits_3_when_isolation_held(persona_catalog: Path, tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    result = runner.invoke(app, ["simulate", "--users", "4", "--duration", "3s", "--ramp-up", "0.2", "--seed", "3",
                                 "--think-time", "0.2", "--quiet", "--threshold", "p99<1us",
                                 "--threshold", "errors<50%", "--json", str(report)])
    assert result.exit_code == 3, result.output
    assert "threshold breached: p99<1us" in result.output and _verdict_line(result.output) == "PASS"
    import orjson

    data = orjson.loads(report.read_bytes())
    assert data["exit_code"] == 3
    assert [(t["expression"], t["passed"]) for t in data["thresholds"]] == [("p99<1us", False), ("errors<50%", True)]


@pytest.mark.slow
def test_simulate_judges_coverage_as_the_gate_does_but_applies_no_default(tmp_path: Path) -> None:
    from http_fakes import serve_http

    args = ["simulate", "--users", "10", "--duration", "2s", "--seed", "4", "--think-time", "0.2", "--quiet"]
    with serve_http(FakeServer(unavailable=0.6, seed=4)) as served:
        relaxed = runner.invoke(app, [*args, "--target", served.url])
        judged = runner.invoke(app, [*args, "--target", served.url, "--threshold", "coverage>=90%"])
    # simulate is exploration: no threshold unless asked for one (the gate has defaults)
    assert relaxed.exit_code == 0, relaxed.output
    assert "coverage scenario=follow-up-isolation" in relaxed.output
    assert judged.exit_code == 3, judged.output
    assert "threshold breached: coverage>=90% (observed" in judged.output
