"""``beatdebate locust --headless``: violations are failures in the CSV and HTML reports, and
the exit code follows the isolation verdict (not Locust's any-failure rule).

Each test starts the embedded server (with a deliberate defect where it says so) and runs
Locust as a subprocess for a few seconds; nothing here asserts timings.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from loadtest.embedded import free_port
from loadtest.oracle import PROPERTIES
from beatdebate_locust import RUN_TIMEOUT, LocustRun, command, run_headless

pytestmark = pytest.mark.slow

# A property each defect must show within a short run (see beatdebate_server/defects.py).
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
    assert sorted(summary["worker"] for summary in board["workers"]) == ["w0", "w1"]
    assert {row["worker"] for row in board["rows"]} == {"w0", "w1"}


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
    assert [summary["worker"] for summary in run.board()["workers"]] == ["w0"]


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
