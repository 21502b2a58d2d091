"""Distributed Locust judged as a whole (``--isolation-scope whole-history``, the default).

The proof of docs/locust.md's "Distributed": a defect visible only across workers fails the
distributed run and passes per-worker checking; the clean server passes with ``--processes
2``; the run's verdict equals ``beatdebate check`` on the merged history it wrote.

The cross-worker defect: ``shared-session`` with two users, one per worker, each running ONE
conversation (``ONE_CHAT``: a query, one "More tracks", then it stays). The second user starts
a second after the first (``-r 1``), so each user's follow-up anchors on its own query and each
worker's own operations are consistent; only together do they show one session id answered to
two users' conversations (``id-collision``).
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest

from beatdebate_locust import RUN_TIMEOUT, LocustRun, command, run_headless
from loadtest.embedded import free_port

pytestmark = pytest.mark.slow

ONE_CHAT = """\
name = "one-chat"
description = "One conversation per user: an artist query, one 'More tracks', then the user stays."

[[steps]]
name = "artist"
query = "Songs by {artist}"
expect = { kind = "by_artist", anchor = "none", content = ["artist"] }

[[steps]]
name = "more"
query = "More tracks"
expect = { follow_up = "more_tracks", anchor = "artist", content = ["artist"] }

[[steps]]
think = [600, 600]
"""


def two_workers_one_user_each(directory: Path, *args: str) -> LocustRun:
    """``shared-session``, two processes, one user on each running ``ONE_CHAT``."""
    directory.mkdir()
    scenario = directory / "one-chat.toml"
    scenario.write_text(ONE_CHAT)
    return run_headless(directory, "--defect", "shared-session", "--processes", "2", "--scenario", str(scenario),
                        "--no-preflight", *args, run_time="4s", users=["-u", "2", "-r", "1"])


def recheck(directory: Path) -> tuple[int, dict[str, Any]]:
    """``beatdebate check`` on the history the run wrote: its exit code and JSON report."""
    report = directory / "check.json"
    beatdebate = command()[0]
    done = subprocess.run([beatdebate, "check", str(directory / "history.jsonl"), "--quiet", "--json", str(report)],
                          capture_output=True, text=True, timeout=120)
    return done.returncode, orjson.loads(report.read_bytes())


def test_a_defect_visible_only_across_workers_fails_the_whole_history_and_passes_per_worker(tmp_path: Path) -> None:
    whole = two_workers_one_user_each(tmp_path / "whole")   # --isolation-scope whole-history: the default
    assert whole.code == 1, whole.output
    board = whole.board()
    assert (board["scope"], board["workers"], board["counts"]) == ("whole-history", 2, {"id-collision": 1})
    assert whole.isolation_failures() == {"id-collision"}
    (row,) = board["rows"]
    assert row["worker"] == "w0+w1"                       # the witness spans both workers
    assert "u0.c1" in row["ops"] and "u1.c1" in row["ops"]

    apart = two_workers_one_user_each(tmp_path / "apart", "--isolation-scope", "per-worker")
    assert apart.code == 0, apart.output
    board = apart.board()
    assert (board["scope"], board["valid"], board["violations"]) == ("per-worker", True, 0)
    assert sorted(summary["worker"] for summary in board["checkers"]) == ["w0", "w1"]


def test_the_distributed_verdict_equals_check_on_the_merged_history(tmp_path: Path) -> None:
    run = two_workers_one_user_each(tmp_path / "run", "--history", str(tmp_path / "run" / "history.jsonl"))
    assert run.code == 1, run.output
    code, report = recheck(tmp_path / "run")
    assert code == run.code
    board = run.board()
    (master,) = board["checkers"]
    assert report["verdict"]["valid"] == board["valid"] is False
    assert report["checked"] == master["checked"]
    assert {a["property"]: a["victim_ops"] for a in report["anomalies"]} == {
        "id-collision": [int(line.split()[2].rstrip(":")) for line in board["rows"][0]["ops"].splitlines()
                         if line.startswith("victim op")]}


def test_the_clean_server_passes_with_two_processes_and_check_agrees(tmp_path: Path) -> None:
    run = run_headless(tmp_path, "--processes", "2", "--history", str(tmp_path / "history.jsonl"))
    assert run.code == 0, run.output
    board = run.board()
    assert (board["valid"], board["violations"], board["scope"], board["workers"], board["error"]) == (
        True, 0, "whole-history", 2, None)
    (master,) = board["checkers"]
    assert master["checked"]["follow_ups"] > 0
    code, report = recheck(tmp_path)
    assert (code, report["verdict"]["valid"], report["checked"]) == (0, True, master["checked"])
    header = orjson.loads((tmp_path / "history.jsonl").read_bytes().split(b"\n", 1)[0])
    assert (header["settings"]["scope"], header["settings"]["workers"]) == ("whole-history", 2)


def test_history_of_a_run_judged_per_worker_is_refused(tmp_path: Path) -> None:
    run = run_headless(tmp_path, "--processes", "2", "--isolation-scope", "per-worker",
                       "--history", str(tmp_path / "history.jsonl"), run_time="2s")
    assert run.code == 2, run.output
    assert "--history needs --isolation-scope whole-history" in run.output
    assert not (tmp_path / "history.jsonl").exists()


def test_a_worker_that_dies_makes_the_verdict_a_harness_error_not_a_pass(tmp_path: Path) -> None:
    port = str(free_port())
    master = subprocess.Popen(
        command("--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", port, "--expect-workers", "2",
                "--headless", "-u", "4", "-r", "4", "-t", "10s", "--only-summary",
                "--isolation-json", str(tmp_path / "isolation.json")),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    workers = [subprocess.Popen(command("--worker", "--master-host", "127.0.0.1", "--master-port", port),
                                cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for _ in range(2)]
    try:
        # Once the second worker has streamed some of its operations, it dies without a word.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not psutil.Process(workers[1].pid).children():
            time.sleep(0.2)
        time.sleep(5)
        for child in psutil.Process(workers[1].pid).children():
            child.kill()
        output, _ = master.communicate(timeout=RUN_TIMEOUT)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
    assert master.returncode == 4, output
    board = orjson.loads((tmp_path / "isolation.json").read_bytes())
    assert board["valid"] == "unknown"
    # Whichever index the master gave it (the workers race to connect): one worker, named.
    assert re.fullmatch(r"the verdict is not whole: worker\(s\) w[01]: no final batch", board["error"])
    assert "the verdict is not whole" in output
