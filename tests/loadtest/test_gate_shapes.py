"""``beatdebate gate`` with a load of the caller's: ``--scenario``, ``--personas``,
``--arrival-rate`` and stages, run by the installed command as a user runs it; its fixed-seed
defaults when none is given."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from loadtest import defaults
from loadtest.errors import UsageError
from loadtest.gate import GateConfig, run_config
from loadtest.history import read_history
from loadtest.stages import parse_arrival_stages, parse_stages
from tests.loadtest.fakes import artist_then_more

BEATDEBATE = Path(sys.executable).with_name("beatdebate")

PERSONAS = """[[personas]]
artist = "Radiohead"
genre = "rock"

[[personas]]
artist = "Björk"
genre = "experimental"

[[personas]]
artist = "Daft Punk"
genre = "house"
"""


def _files(tmp_path: Path, shape: str = "") -> tuple[Path, Path]:
    scenario, personas = tmp_path / "flow.toml", tmp_path / "pool.toml"
    scenario.write_text(artist_then_more(shape))
    personas.write_text(PERSONAS)
    return scenario, personas


def _gate(tmp_path: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    report = tmp_path / "gate.json"
    done = subprocess.run([str(BEATDEBATE), "gate", "--quiet", *args, "--json", str(report),
                           "--junit", str(tmp_path / "gate.xml")], capture_output=True, text=True, timeout=120,
                          check=False)
    return done.returncode, orjson.loads(report.read_bytes()) if report.exists() else {}, done.stdout + done.stderr


def test_the_gate_keeps_its_fixed_load_unless_given_another(tmp_path: Path) -> None:
    fixed = run_config(GateConfig())
    assert (fixed.model, fixed.planned_users, fixed.planned_duration, fixed.seed) == (
        "closed", defaults.GATE_USERS, defaults.GATE_DURATION, defaults.GATE_SEED)
    opened = run_config(GateConfig(arrival_rate=20.0))
    assert (opened.model, opened.arrival_rate, opened.planned_duration) == ("open", 20.0, defaults.GATE_DURATION)
    staged = run_config(GateConfig(stages=parse_stages("5s:200,5s:0")))
    assert (staged.model, staged.planned_users, staged.planned_duration) == ("closed", 200, 10.0)
    ramped = run_config(GateConfig(arrival_stages=parse_arrival_stages("5s:50/s"), duration=None))
    assert (ramped.model, ramped.planned_duration, ramped.seed) == ("open", 5.0, defaults.GATE_SEED)
    scenario, personas = _files(tmp_path, 'stages = "3s:120,3s:0"')
    from_file = run_config(GateConfig(scenarios=(scenario,), personas=personas))
    assert (from_file.planned_users, from_file.planned_duration) == (120, 6.0)
    assert [p.name for p in from_file.pool] == ["Radiohead", "Björk", "Daft Punk"]
    assert [s.name for s in from_file.resolved_scenarios] == ["artist-then-more"]
    given = run_config(GateConfig(scenarios=(scenario,), users=150))   # the command line's load wins
    assert (given.planned_users, given.planned_duration) == (150, defaults.GATE_DURATION)


@pytest.mark.parametrize(("config", "message"), [
    (GateConfig(stages=parse_stages("2s:10"), users=100), "cannot go with --users"),
    (GateConfig(stages=parse_stages("2s:10"), duration=5.0), "cannot go with --duration"),
    (GateConfig(arrival_stages=parse_arrival_stages("2s:10/s"), arrival_rate=5.0), "cannot go with --arrival-rate"),
    (GateConfig(scenarios=(Path("no-such.toml"),)), "no-such.toml: cannot read"),
    (GateConfig(personas=Path("no-such-pool.toml")), "no-such-pool.toml"),
])
def test_a_gate_that_cannot_run_says_why(config: GateConfig, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        run_config(config)


@pytest.mark.slow
def test_the_gate_runs_a_scenario_file_and_a_pool_in_the_open_model(tmp_path: Path) -> None:
    scenario, personas = _files(tmp_path)
    code, report, output = _gate(tmp_path, "--scenario", str(scenario), "--personas", str(personas),
                                 "--arrival-rate", "20/s", "--duration", "2s",
                                 "--history", str(tmp_path / "history.jsonl"))
    assert code == 0, output
    settings = report["settings"]
    assert (settings["model"], settings["arrival_rate"], settings["duration"]) == ("open", 20.0, 2.0)
    assert (settings["personas"], settings["seed"], list(settings["scenario_weights"])) == (
        3, defaults.GATE_SEED, ["artist-then-more"])
    assert report["verdict"]["outcome"] == "pass"
    ops = read_history(tmp_path / "history.jsonl")
    assert {op.subject.get("artist") for op in ops} == {"Radiohead", "Björk", "Daft Punk"}   # the pool given
    assert {op.scenario for op in ops} == {"artist-then-more"}


@pytest.mark.slow
def test_the_gate_with_stages_fails_a_leaky_server(tmp_path: Path) -> None:
    code, report, output = _gate(tmp_path, "--stages", "1s:10,1s:10,1s:0", "--defect", "shared-session")
    assert code == 1, output
    assert (report["settings"]["stages"], report["settings"]["users"], report["settings"]["duration"]) == (
        "1s:10,1s:10,1s:0", 10, 3.0)
    assert report["verdict"]["outcome"] == "fail"
    assert "note: 10 users is below the gate's 100" in output


def test_a_bad_stage_string_exits_2_before_any_load(tmp_path: Path) -> None:
    code, report, output = _gate(tmp_path, "--stages", "10s:50,1x:5")
    assert code == 2, output
    assert "error: --stages: stage 2 ('1x:5'): '1x': unit 'x' is not a duration" in output
    assert report == {}   # nothing ran, no report
    code, _, output = _gate(tmp_path, "--stages", "10s:50", "--users", "100")
    assert code == 2 and "--stages sets the load over time and the run's length: it cannot go with --users" in output
