"""``beatdebate locust --headless``: violations are failures in the CSV and HTML reports, and
the exit code follows the isolation verdict (not Locust's any-failure rule).

Each test starts the embedded server (with a deliberate defect where it says so) and runs
Locust as a subprocess for a few seconds; nothing here asserts timings.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from loadtest.embedded import free_port
from loadtest.oracle import PROPERTIES, REGISTRY
from loadtest.oracle.properties import missing_evidence
from loadtest.profiles import evidence, load_profile
from beatdebate_locust import REPO, RUN_TIMEOUT, LocustRun, command, run_headless

pytestmark = pytest.mark.slow

# A property each defect must show within a short run (see beatdebate_server/defects/).
SIGNATURE = {
    "shared-session": "foreign-request-id",   # everybody's requests in one history
    "unscoped-cache": "foreign-anchor",       # "More tracks" answered from another session
}


def test_a_clean_server_exits_zero_and_reports_no_violation(tmp_path: Path) -> None:
    run = run_headless(tmp_path)
    assert run.code == 0, run.output
    assert run.isolation_failures() == set()
    board = run.board()
    assert (board["valid"], board["violations"], board["rows"]) == (True, 0, [])
    assert (board["scope"], board["workers"]) == ("whole-history", 0)     # one process ran every user
    assert "isolation:" not in run.html.read_text()


@pytest.mark.parametrize("defect", sorted(SIGNATURE))
def test_a_defect_fails_the_run_and_names_the_property_in_every_report(tmp_path: Path, defect: str) -> None:
    run = run_headless(tmp_path, "--defect", defect)
    assert run.code == 1, run.output
    found = run.isolation_failures()
    assert SIGNATURE[defect] in found
    assert found <= set(PROPERTIES)
    board = run.board()
    assert board["valid"] is False
    assert set(board["counts"]) == found          # the final verdict's findings reached the CSV
    html = run.html.read_text()
    assert all(f"isolation:{name}" in html for name in found)
    row = next(r for r in board["rows"] if r["property"] == SIGNATURE[defect])
    assert row["explanation"] and "victim op" in row["ops"] and row["curl"].startswith("curl ")


def test_processes_find_the_same_violations_and_the_master_decides(tmp_path: Path) -> None:
    run = run_headless(tmp_path, "--defect", "shared-session", "--processes", "2")
    assert run.code == 1, run.output
    assert SIGNATURE["shared-session"] in run.isolation_failures()
    board = run.board()
    # Judged as a whole (the default): the master's checker, over both workers' operations.
    assert (board["scope"], board["workers"]) == ("whole-history", 2)
    assert [summary["worker"] for summary in board["checkers"]] == ["master"]
    assert {worker for row in board["rows"] for worker in row["worker"].split("+")} == {"w0", "w1"}


def test_an_explicit_master_and_worker_bring_violations_to_the_master(tmp_path: Path) -> None:
    port = str(free_port())
    master = subprocess.Popen(
        command("--defect", "shared-session", "--master", "--master-bind-host", "127.0.0.1",
                "--master-bind-port", port, "--expect-workers", "1", "--headless", "-u", "8", "-r", "8",
                "-t", "8s", "--only-summary", "--csv", str(tmp_path / "run"),
                "--isolation-json", str(tmp_path / "isolation.json")),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # A worker gets its host from the master: no server of its own.
    worker = subprocess.Popen(command("--worker", "--master-host", "127.0.0.1", "--master-port", port),
                              cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        master_output, _ = master.communicate(timeout=RUN_TIMEOUT)
        worker.communicate(timeout=60)
    finally:
        for process in (master, worker):
            if process.poll() is None:
                process.kill()
    assert master.returncode == 1, master_output
    run = LocustRun(master.returncode, master_output, tmp_path)
    assert SIGNATURE["shared-session"] in run.isolation_failures()
    board = run.board()
    assert (board["scope"], board["workers"], [c["worker"] for c in board["checkers"]]) == (
        "whole-history", 1, ["master"])


def test_a_bad_scenario_is_refused_before_any_load(tmp_path: Path) -> None:
    run = run_headless(tmp_path, "--scenario", "no-such-scenario", run_time="2s")
    assert run.code == 2
    assert "no built-in scenario 'no-such-scenario'" in run.output
    assert not (tmp_path / "isolation.json").exists()


def test_personas_the_target_cannot_serve_are_set_aside_not_failed(tmp_path: Path) -> None:
    pool = tmp_path / "personas.toml"
    pool.write_text('[[personas]]\nartist = "Radiohead"\ngenre = "rock"\n\n'
                    '[[personas]]\nartist = "The Band Nobody Recorded"\ngenre = "rock"\n')
    run = run_headless(tmp_path, "--scenario", "follow-up-isolation", "--personas", str(pool))
    assert run.code == 0, run.output
    assert "persona The Band Nobody Recorded set aside" in run.output
    assert run.board()["valid"] is True


# ---- target profiles (docs/profiles.md) --------------------------------------------------

OUR_PROFILE = REPO / "scenarios" / "profiles" / "our-server-by-profile.toml"
# Items named by their artist alone: every page of one artist shows "the same track" again.
BY_ARTIST = ('id = "track_id"', 'id = "artist"')


def our_profile(directory: Path, name: str, *edits: tuple[str, str], drop: str | None = None,
                append: str = "") -> Path:
    """Our server's profile file, renamed, edited, without its ``drop`` table, plus ``append``."""
    text = OUR_PROFILE.read_text(encoding="utf-8").replace('name = "our-server-by-profile"', f'name = "{name}"')
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    if drop is not None:
        text, dropped = re.subn(rf"^\[{drop}\]\n.*?\n\n", "", text, flags=re.S | re.M)
        assert dropped == 1
    path = directory / f"{name}.toml"
    path.write_text(text + append, encoding="utf-8")
    return path


def statuses(board: dict[str, Any]) -> dict[str, str]:
    return {name: status["status"] for name, status in board["by_property"].items()}


def test_a_profile_run_talks_through_the_profile_and_runs_its_scenarios(tmp_path: Path) -> None:
    run = run_headless(tmp_path, "--profile", "our-server-by-profile")
    assert run.code == 0, run.output
    profile = load_profile("our-server-by-profile")
    board = run.board()
    assert (board["valid"], board["violations"], board["profile"]) == (True, 0, "our-server-by-profile")
    assert board["scenarios"] == profile.run.scenarios          # the profile's, not the default mix
    assert board["evidence"] == sorted(evidence(profile))
    shown = statuses(board)
    assert {name for name, state in shown.items() if state == "not_checkable"} == {
        name for name, prop in REGISTRY.items() if missing_evidence(prop, evidence(profile))}
    assert shown["foreign-anchor"] == shown["foreign-request-id"] == "held"
    # The requests were built from the profile's templates: statistics name its routes.
    assert ("GET", "/sessions/{session_id}") in run.requests()


def test_properties_a_profile_cannot_show_are_not_checkable(tmp_path: Path) -> None:
    profile = our_profile(tmp_path, "no-history", drop="read_history")
    run = run_headless(tmp_path, "--profile", str(profile))
    assert run.code == 0, run.output
    board = run.board()
    assert "history" not in board["evidence"]
    lacking = {name: status.get("missing_evidence") for name, status in board["by_property"].items()
               if status["status"] == "not_checkable"}
    needing = {name for name, prop in REGISTRY.items() if "history" in prop.evidence}
    assert needing and {name: lacking.get(name) for name in needing} == {name: ["history"] for name in needing}
    assert set(lacking) - needing == {"foreign-canary", "lost-canary"}    # our answers never had text
    assert statuses(board)["foreign-anchor"] == "held"           # what it shows is still judged
    assert not any(method == "GET" for method, _ in run.requests())   # no history call to make


def test_an_allowed_violation_is_reported_without_failing_and_deny_makes_it_fail(tmp_path: Path) -> None:
    (tmp_path / "allow").mkdir()
    allowed = run_headless(tmp_path / "allow", "--profile", str(our_profile(tmp_path, "by-artist", BY_ARTIST)),
                           "--allow", "repeated-track")
    assert allowed.code == 0, allowed.output
    board = allowed.board()
    assert (board["valid"], board["allowed"], set(board["counts"])) == (True, ["repeated-track"], {"repeated-track"})
    assert statuses(board)["repeated-track"] == "allowed"
    assert {row["state"] for row in board["rows"]} == {"allowed"}
    assert allowed.isolation_failures() == {"repeated-track"}       # still in Locust's failures
    assert "allowed, not failing the run" in allowed.failures_csv.read_text()

    (tmp_path / "deny").mkdir()
    allowing = our_profile(tmp_path, "by-artist-allowed", BY_ARTIST, append='\n[properties]\nallow = ["repeated-track"]\n')
    denied = run_headless(tmp_path / "deny", "--profile", str(allowing), "--deny", "repeated-track")
    assert denied.code == 1, denied.output
    board = denied.board()
    assert (board["valid"], board["allowed"]) == (False, [])
    assert statuses(board)["repeated-track"] == "violated"
    assert {row["state"] for row in board["rows"]} == {"violated"}


def test_a_gradio_profile_is_refused_before_any_load(tmp_path: Path) -> None:
    chat = tmp_path / "chat.toml"
    chat.write_text('name = "chat"\nkind = "gradio"\n\n[gradio]\napi_name = "/chat"\n\n[answer]\ntext = "@"\n')
    run = run_headless(tmp_path, "--profile", str(chat), "--host", "http://127.0.0.1:9", run_time="2s")
    assert run.code == 2, run.output
    assert "cannot run under Locust's gevent" in run.output
    assert not (tmp_path / "isolation.json").exists()
