"""Proof of issue 12, parts 1 and 2: no hollow pass, and a resilient run.

- A server whose isolation is correct but which answers 503 to 60% of its turns: the gate
  exits 3 on its default error threshold (and its coverage one), where it used to print PASS.
  With ``--threshold "errors<70%" --threshold "coverage>=0%"`` the caller has decided: exit 0.
- A server that resets one preflight connection: the probe is tried again on a fresh
  connection, the run completes, and its verdict is the normal one.

Each runs ``beatdebate gate --target URL`` as a pipeline does (the command line, in process),
against ``FakeServer`` served over real HTTP (``http_fakes``), with the gate's 100 users and
a short load. No assertion is on time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import orjson
import pytest
from fakes import FakeServer
from http_fakes import serve_http
from typer.testing import CliRunner

from cli import app
from loadtest.defaults import GATE_MIN_USERS
from loadtest.outcome import ExitCode

pytestmark = pytest.mark.slow

SHORT = ["--users", str(GATE_MIN_USERS), "--duration", "3", "--quiet"]


def _gate(url: str, tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    json_path = tmp_path / "gate.json"
    invoked = CliRunner().invoke(app, ["gate", "--target", url, *SHORT, *args, "--json", str(json_path),
                                       "--junit", str(tmp_path / "gate.junit.xml")])
    assert json_path.exists(), invoked.output
    return invoked.exit_code, orjson.loads(json_path.read_bytes()), invoked.output


def _thresholds(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(t["expression"], t["origin"], t["passed"]) for t in report["thresholds"]]


def test_a_server_failing_most_turns_breaches_the_default_error_threshold(tmp_path: Path) -> None:
    fake = FakeServer(unavailable=0.6, seed=12)
    with serve_http(fake) as served:
        code, report, output = _gate(served.url, tmp_path)

    assert code == ExitCode.THRESHOLD, output
    assert "threshold breached: errors<1%" in output
    assert _thresholds(report) == [("errors<1%", "default", False), ("coverage>=90%", "default", False)]
    # Isolation held: the server is correct, only unavailable; no 503 was counted against it.
    assert report["verdict"]["outcome"] == "pass" and report["anomalies"] == []
    assert fake.unavailable_answers > 0 and report["errors"]["http_503"] > 0
    assert report["thresholds"][0]["observed"] > 0.3
    # Conversations stopped at their failed turns: every scenario is short of its follow-ups.
    coverage = report["coverage"]
    assert set(coverage) == set(report["scenarios"])
    for name, entry in coverage.items():
        assert entry["conversations"]["failed"] > 0, name
        assert entry["follow_ups"]["checked"] < entry["follow_ups"]["planned"], name
        assert entry["share"] < 0.9, name
    # The JUnit file fails the same thresholds, and names the scenarios short of coverage.
    junit = ET.parse(tmp_path / "gate.junit.xml").getroot()
    assert junit.find("testsuite[@name='beatdebate.thresholds']/testcase[@name='errors<1%']/failure") is not None
    short = [case.get("name", "") for case in junit.findall("testsuite[@name='beatdebate.coverage']/testcase")
             if case.find("failure") is not None]
    assert sorted(short) == sorted(coverage)


def test_the_caller_may_accept_those_errors_and_relax_coverage(tmp_path: Path) -> None:
    fake = FakeServer(unavailable=0.6, seed=12)
    with serve_http(fake) as served:
        code, report, output = _gate(served.url, tmp_path, "--threshold", "errors<70%",
                                     "--threshold", "coverage>=0%")

    assert code == ExitCode.OK, output
    # The caller's thresholds replace the defaults on their metrics: none is judged twice.
    assert _thresholds(report) == [("errors<70%", "given", True), ("coverage>=0%", "given", True)]
    assert report["verdict"]["outcome"] == "pass"
    assert report["checked"]["follow_ups"] > 0
    assert fake.unavailable_answers > 0


def test_a_reset_preflight_connection_does_not_end_the_run(tmp_path: Path) -> None:
    fake = FakeServer()
    with serve_http(fake, reset_preflight=1) as served:
        code, report, output = _gate(served.url, tmp_path)
        resets = served.resets

    assert resets == 1                      # the fault happened
    assert code == ExitCode.OK, output      # and the verdict is the normal one
    assert report["harness_error"] is None
    assert report["skipped_personas"] == []             # the reset probe was answered on its retry
    assert report["verdict"]["outcome"] == "pass" and report["totals"]["failed"] == 0
    assert _thresholds(report) == [("errors<1%", "default", True), ("coverage>=90%", "default", True)]
    assert all(entry["share"] == 1.0 for entry in report["coverage"].values())
