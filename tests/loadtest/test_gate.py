"""The gate: the one exit-code mapping (``loadtest.outcome``), and ``beatdebate gate`` end to end."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import orjson
import pytest
from typer.testing import CliRunner

from cli import app
from loadtest.latency import LatencyHistogram
from loadtest.oracle.model import Anomaly, Checked, Verdict
from loadtest.outcome import ExitCode, exit_code
from loadtest.report.status import outcome
from loadtest.result import RunResult
from loadtest.thresholds import evaluate, parse_threshold

LEAK = Anomaly(property="foreign-anchor", cls="bleeding", session="s" * 32, conversation="u1.c1",
               scenario="follow-up-isolation", victim=(1,), source=(0,), explanation="leak")
LOSS = Anomaly(property="missing-turn", cls="loss", session="s" * 32, conversation="u1.c1",
               scenario="same-session-burst", victim=(1,), explanation="lost")


def _result(valid: bool | str, *, anomalies: dict[str, tuple[Anomaly, ...]] | None = None,
            harness_error: str | None = None) -> RunResult:
    histogram = LatencyHistogram()
    histogram.record(0.010)
    return RunResult(target="http://t", scenarios=("follow-up-isolation",), settings={}, started_at=0.0,
                     elapsed=1.0, ops=(), verdict=Verdict(valid, anomalies or {}, Checked()),  # type: ignore[arg-type]
                     latency={"first_query": histogram}, harness_error=harness_error)


def _thresholds(*texts: str, result: RunResult) -> list:  # type: ignore[type-arg]
    return evaluate([parse_threshold(t) for t in texts], result)


@pytest.mark.parametrize(
    ("valid", "anomalies", "harness_error", "thresholds", "code"),
    [
        (True, None, None, (), ExitCode.OK),
        (True, None, None, ("p99<1s",), ExitCode.OK),
        (False, {"foreign-anchor": (LEAK,)}, None, (), ExitCode.ISOLATION),
        (False, {"missing-turn": (LOSS,)}, None, (), ExitCode.ISOLATION),
        # isolation outranks a breached threshold
        (False, {"foreign-anchor": (LEAK,)}, None, ("p99<1us",), ExitCode.ISOLATION),
        ("unknown", None, None, (), ExitCode.ISOLATION),                 # nothing checked never passes
        ("unknown", None, None, ("p99<1s",), ExitCode.ISOLATION),
        (True, None, None, ("p99<1us",), ExitCode.THRESHOLD),
        (True, None, None, ("p99<1s", "follow_up.p99<1s"), ExitCode.THRESHOLD),  # nothing to measure fails
        ("unknown", None, "connection refused", (), ExitCode.HARNESS),
        (True, None, "crashed at the end", ("p99<1us",), ExitCode.HARNESS),
        # a proven violation outranks a harness failure: its witnesses are recorded answers
        (False, {"foreign-anchor": (LEAK,)}, "lost the target", (), ExitCode.ISOLATION),
    ],
)
def test_exit_code_mapping(valid: bool | str, anomalies: dict | None, harness_error: str | None,  # type: ignore[type-arg]
                           thresholds: tuple[str, ...], code: int) -> None:
    result = _result(valid, anomalies=anomalies, harness_error=harness_error)
    assert exit_code(outcome(result), _thresholds(*thresholds, result=result)) == code


def test_exit_codes_are_in_help() -> None:
    invoked = CliRunner().invoke(app, ["gate", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert invoked.exit_code == 0
    text = " ".join(invoked.output.split())
    for phrase in ("0 all held", "1 isolation violated", "2 usage error", "3 a threshold breached",
                   "4 target unreachable"):
        assert phrase in text


@pytest.mark.parametrize(
    "args",
    [
        ["--threshold", "p99<fast"],
        ["--threshold", "latency<5ms"],
        ["--threshold", "p99<1s", "--threshold", "errors<5"],
        ["--target", "http://127.0.0.1:9", "--defect", "shared-session"],
        ["--target", "ftp://example"],
        ["--users", "0"],
        ["--duration", "soon"],
        ["--defect", "ui-global-session"],      # the gate drives the API: it cannot see the chat page's bug
        ["--no-such-flag"],
    ],
)
def test_usage_errors_exit_2_and_run_nothing(args: list[str], tmp_path: Path) -> None:
    json_path = tmp_path / "gate.json"
    invoked = CliRunner().invoke(app, ["gate", *args, "--json", str(json_path)])
    assert invoked.exit_code == 2, invoked.output
    assert not json_path.exists()


def test_unreachable_target_exits_4_with_both_reports(tmp_path: Path) -> None:
    json_path, junit_path = tmp_path / "r" / "gate.json", tmp_path / "r" / "gate.junit.xml"
    invoked = CliRunner().invoke(app, ["gate", "--target", "http://127.0.0.1:9", "--quiet",
                                       "--json", str(json_path), "--junit", str(junit_path)])
    assert invoked.exit_code == 4, invoked.output
    data = orjson.loads(json_path.read_bytes())
    assert data["exit_code"] == 4
    assert data["verdict"]["outcome"] == "error"
    assert "unreachable" in data["harness_error"]
    error = ET.parse(junit_path).getroot().find("testsuite[@name='beatdebate.run']/testcase[@name='harness']/error")
    assert error is not None and "127.0.0.1:9" in (error.get("message") or "")


SHORT = ["--users", "100", "--duration", "4", "--quiet"]


def _gate(tmp_path: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    json_path = tmp_path / "gate.json"
    invoked = CliRunner().invoke(app, ["gate", *SHORT, *args, "--json", str(json_path),
                                       "--junit", str(tmp_path / "gate.junit.xml")])
    return invoked.exit_code, orjson.loads(json_path.read_bytes()), invoked.output


@pytest.mark.slow
def test_gate_on_the_clean_embedded_server_passes(tmp_path: Path) -> None:
    code, data, output = _gate(tmp_path)
    assert code == 0, output
    assert data["verdict"]["outcome"] == "pass"
    assert data["settings"]["users"] == 100
    from loadtest.profiles import contract_profile

    # every built-in scenario of the contract's profile ran (canary-recall is for chat apps' profiles)
    assert set(data["scenarios"]) >= set(contract_profile().run.scenarios)
    assert data["totals"]["requests"] > 0
    junit = ET.parse(tmp_path / "gate.junit.xml").getroot()
    assert junit.get("failures") == "0"


@pytest.mark.slow
def test_gate_finds_the_shared_session_defect(tmp_path: Path) -> None:
    history = tmp_path / "gate.jsonl"
    code, data, output = _gate(tmp_path, "--defect", "shared-session", "--history", str(history))
    assert code == 1, output
    violated = {name for name, status in data["verdict"]["by_property"].items() if status["status"] == "violated"}
    assert "foreign-request-id" in violated or "foreign-anchor" in violated
    assert data["verdict"]["bleeding"] > 0
    assert data["anomalies"][0]["curl"].startswith("curl ")
    # The recorded history, checked offline, reaches the same verdict.
    from loadtest.runner import check_history

    rechecked = check_history(history).verdict
    assert {name for name, found in rechecked.anomalies.items() if found} == violated
    assert rechecked.count == data["verdict"]["bleeding"] + data["verdict"]["loss"]


@pytest.mark.slow
def test_gate_with_a_threshold_that_must_breach_exits_3(tmp_path: Path) -> None:
    code, data, output = _gate(tmp_path, "--threshold", "p99<1us", "--threshold", "errors<50%")
    assert code == 3, output
    assert "threshold breached: p99<1us" in output
    # The caller's errors<50% replaced the default errors<1%; the default coverage one still applies.
    assert [(t["expression"], t["passed"], t["origin"]) for t in data["thresholds"]] == [
        ("p99<1us", False, "given"), ("errors<50%", True, "given"), ("coverage>=90%", True, "default")]
    assert data["verdict"]["outcome"] == "pass"


def test_cli_defaults_are_the_gate_defaults() -> None:
    # Both read loadtest.defaults; the command line writes the duration as a duration.
    import typer.main

    from loadtest.gate import GateConfig

    command = typer.main.get_command(app).commands["gate"]  # type: ignore[attr-defined]
    defaults = {param.name: param.default for param in command.params}
    config = GateConfig()
    assert (defaults["seed"], defaults["users"], defaults["duration"], defaults["store"],
            defaults["server_workers"]) == (config.seed, config.users, config.duration, config.store,
                                            config.server_workers)
    # Users and duration left out: the gate's fixed load (stages or the open model would replace it).
    from loadtest import defaults as shipped
    from loadtest.gate import run_config

    runner = run_config(config)
    assert (runner.planned_users, runner.planned_duration, runner.model) == (
        shipped.GATE_USERS, shipped.GATE_DURATION, "closed")
    assert (Path(defaults["json_path"]), Path(defaults["junit_path"])) == (config.json_path, config.junit_path)


def test_the_gate_judges_its_default_thresholds_unless_the_caller_names_their_metric() -> None:
    from loadtest.gate import GateConfig, gate_thresholds
    from loadtest.thresholds import parse_thresholds

    assert [(t.text, t.origin) for t in gate_thresholds(GateConfig())] == [
        ("errors<1%", "default"), ("coverage>=90%", "default")]
    given = parse_thresholds(["errors<=100%", "p99<250ms"])
    assert [(t.text, t.origin) for t in gate_thresholds(GateConfig(thresholds=given))] == [
        ("errors<=100%", "given"), ("p99<250ms", "given"), ("coverage>=90%", "default")]
    assert gate_thresholds(GateConfig(thresholds=given, default_thresholds=())) == given
    # A nemesis fails requests on purpose: no default judges it, the caller's thresholds do.
    assert gate_thresholds(GateConfig(nemesis=("abort",))) == ()
    assert gate_thresholds(GateConfig(thresholds=given, nemesis=("abort",))) == given


def test_gate_help_names_the_default_thresholds_and_how_to_turn_one_off() -> None:
    invoked = CliRunner().invoke(app, ["gate", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    text = " ".join(invoked.output.replace("│", " ").split())      # the help's box, wrapped or not
    assert "'errors<1%', 'coverage>=90%'" in text
    assert "'errors<=100%' turns that one off" in text
