"""``loadtest.locust_runner``: the command line it builds and when it starts a server; and what
the locustfile resolves without Locust (``loadtest.locustfile.options`` and ``.preflight``:
scenarios, personas, the preflight's child process)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from loadtest.errors import UsageError
from loadtest.locust_runner import (
    LOCUSTFILE, build_command, check_history_scope, has_flag, needs_server, option_value, profile_args,
)
from loadtest.locustfile.options import resolve_pool, resolve_scenarios
from loadtest.locustfile.preflight import preflight_command
from loadtest.personas import DEFAULT_POOL
from loadtest.scenario import DEFAULT_BUILTIN, ScenarioError, load_builtin


def test_the_locustfile_ships_in_the_scenarios_package() -> None:
    assert LOCUSTFILE == Path(__file__).resolve().parents[2] / "scenarios" / "locustfile.py"
    assert LOCUSTFILE.is_file()


@pytest.mark.parametrize(("args", "expected"), [
    (["--host", "http://a:1"], "http://a:1"),
    (["--host=http://a:1"], "http://a:1"),
    (["-H", "http://a:1"], "http://a:1"),
    (["-Hhttp://a:1"], "http://a:1"),
    (["--headless", "-u", "5"], None),
    (["--host"], None),                                   # no value: Locust will complain
    (["-H", "http://a:1", "--host", "http://b:2"], "http://b:2"),   # the last one wins
])
def test_option_value_finds_every_spelling(args: list[str], expected: str | None) -> None:
    assert option_value(args, "-H", "--host") == expected


def test_needs_server_only_when_nobody_named_a_target() -> None:
    assert needs_server(["--headless"], {}) is True
    assert needs_server(["--host", "http://x:1"], {}) is False
    assert needs_server([], {"LOCUST_HOST": "http://x:1"}) is False
    assert needs_server(["--worker", "--master-host", "m"], {}) is False   # host comes from the master
    assert has_flag(["--worker"], "--worker") is True


def test_build_command_adds_our_locustfile_and_host_then_passes_everything_through() -> None:
    args = ["--headless", "-u", "3", "--scenario", "refresh", "--csv", "out/run"]
    assert build_command(args, host="http://127.0.0.1:9") == [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", "http://127.0.0.1:9", *args]


def test_build_command_keeps_a_locustfile_the_user_named() -> None:
    assert build_command(["-f", "mine.py"], python="py") == ["py", "-m", "locust", "-f", "mine.py"]


def test_cli_refuses_server_options_with_a_host() -> None:
    result = CliRunner().invoke(app, ["locust", "--defect", "shared-session", "--host", "http://x:1"])
    assert result.exit_code == 2
    assert "embedded server" in " ".join(result.output.replace("│", " ").split())


def test_cli_refuses_a_defect_locust_cannot_see() -> None:
    # Locust's users call the API; a defect of the chat page would pass unseen.
    result = CliRunner().invoke(app, ["locust", "--defect", "ui-global-session", "--headless"])
    assert result.exit_code == 2
    assert "use --through ui" in result.output


def test_scenarios_and_personas_resolve_like_simulate(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('name = "mine"\n\n[[steps]]\nquery = "Songs by {artist}"\n')
    found = resolve_scenarios(f"refresh, {mine}")
    assert [s.name for s in found] == ["refresh", "mine"]
    assert [s.name for s in resolve_scenarios("")] == [s.name for s in load_builtin(DEFAULT_BUILTIN)]
    with pytest.raises(ScenarioError, match="no built-in scenario 'nope'"):
        resolve_scenarios("nope")
    assert resolve_pool("") == DEFAULT_POOL
    assert [p.name for p in resolve_pool("", skip=["Radiohead"])] == [
        p.name for p in DEFAULT_POOL if p.name != "Radiohead"]


def test_preflight_command_runs_the_preflight_module() -> None:
    assert preflight_command("http://t:1", scenario_spec="refresh") == [
        sys.executable, "-m", "loadtest.locustfile.preflight", "--host", "http://t:1",
        "--scenario", "refresh", "--personas", ""]
    assert preflight_command("http://t:1", scenario_spec="", profile="beatdebate-original")[-2:] == [
        "--target-profile", "beatdebate-original"]


def test_the_profile_reaches_the_locustfile_under_its_own_option_names(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Locust's own --profile labels test runs: ours travels as --target-profile.
    assert profile_args() == []
    assert profile_args("beatdebate-original", allow=["weak-id", "turn-gap"], deny=["adopted-client-id"]) == [
        "--target-profile", "beatdebate-original", "--allow", "weak-id", "--allow", "turn-gap",
        "--deny", "adopted-client-id"]
    (tmp_path / "mine.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    # A file by its absolute path: workers get the master's options, whatever their directory.
    assert profile_args("mine.toml") == ["--target-profile", str(tmp_path / "mine.toml")]


def test_cli_declares_the_profile_options_for_locust() -> None:
    result = CliRunner().invoke(app, ["locust", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert all(option in result.output for option in ("--profile", "--allow", "--deny"))


def test_history_of_a_distributed_run_judged_per_worker_is_refused_before_locust_starts() -> None:
    for distributed in (["--processes", "2"], ["--master"], ["--worker"]):
        with pytest.raises(UsageError, match="--history needs --isolation-scope whole-history"):
            check_history_scope([*distributed, "--isolation-scope", "per-worker", "--history", "h.jsonl"])
        check_history_scope([*distributed, "--history", "h.jsonl"])                    # whole-history: the default
        check_history_scope([*distributed, "--isolation-scope", "per-worker"])       # no history asked
    check_history_scope(["--isolation-scope", "per-worker", "--history=h.jsonl"])  # one process holds it all
