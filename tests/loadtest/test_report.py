"""Reports: the summary rendered to a Console, the JSON report's schema, the JUnit XML, the dashboard."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from io import StringIO
from pathlib import Path

import orjson
import pytest
from rich.console import Console

import loadtest.report as report
from loadtest.coverage import ScenarioCoverage
from loadtest.history import Anchor, Expect, Op, RecordedTurn, TrackSeen
from loadtest.latency import LatencyHistogram
from loadtest.live import LiveStats
from loadtest.oracle import ALL_EVIDENCE, PROPERTIES
from loadtest.oracle.model import Anomaly, Checked, Verdict
from loadtest.result import RunResult, SkippedPersona
from loadtest.thresholds import evaluate, parse_threshold

SESSION_A = "A" * 32
SESSION_B = "B" * 32


def _recommend(index: int, conversation: str, session: str, *, scenario: str, turn: int, query: str,
               follow_up: str | None = None, anchor: Anchor | None = None) -> Op:
    return Op(index=index, user=int(conversation[1]), conversation=conversation, scenario=scenario,
              step=f"step{turn}", action="recommend", status="ok", invoked_at=index * 0.1,
              completed_at=index * 0.1 + 0.02, request_id=f"r-{index}",
              session_sent=None if turn == 1 else session, session=session, http_status=200, query=query,
              expect=Expect(follow_up=follow_up), turn=turn, follow_up=follow_up, anchor=anchor,
              tracks=(TrackSeen(f"t{index}", "Mk.gee"),))


def _ops() -> list[Op]:
    ops = [
        _recommend(0, "u1.c1", SESSION_A, scenario="follow-up-isolation", turn=1, query="Songs by Mk.gee"),
        _recommend(1, "u2.c1", SESSION_B, scenario="follow-up-isolation", turn=1, query="Songs by Burial"),
        _recommend(2, "u2.c1", SESSION_B, scenario="follow-up-isolation", turn=2, query="More tracks",
                   follow_up="more_tracks", anchor=Anchor(turn=1, request_id="r-0", query="Songs by Mk.gee")),
        Op(index=3, user=3, conversation="u3.c1", scenario="refresh", step="first", action="recommend",
           status="ok", invoked_at=0.3, completed_at=0.31, request_id="r-3", session="C" * 32, turn=1,
           query="Songs by Bill Evans"),
        Op(index=4, user=3, conversation="u3.c1", scenario="refresh", step="history", action="read_history",
           status="ok", invoked_at=0.4, completed_at=0.45, request_id="r-4", session_sent="C" * 32,
           session="C" * 32, turn_count=1, recorded=(RecordedTurn(1, "r-3"),)),
        Op(index=5, user=3, conversation="u3.c1", scenario="refresh", step="more", action="recommend",
           status="fail", invoked_at=0.5, completed_at=0.6, request_id="r-5", session_sent="C" * 32,
           http_status=503, error="http 503"),
    ]
    return ops


FOREIGN_ANCHOR = Anomaly(
    property="foreign-anchor", cls="bleeding", session=SESSION_B, conversation="u2.c1",
    scenario="follow-up-isolation", victim=(2,), source=(0,),
    explanation="u2.c1 turn 2 anchored on u1.c1's request r-0 'Songs by Mk.gee'",
)


def _result(*, anomalies: dict[str, tuple[Anomaly, ...]] | None = None, valid: bool | str | None = None,
            harness_error: str | None = None) -> RunResult:
    ops = _ops()
    latency: dict[str, LatencyHistogram] = {}
    for op in ops:
        kind = "history_read" if op.action == "read_history" else ("follow_up" if op.follow_up else "first_query")
        latency.setdefault(kind, LatencyHistogram()).record(op.latency or 0.0)
    anomalies = anomalies if anomalies is not None else {"foreign-anchor": (FOREIGN_ANCHOR,)}
    verdict_valid = valid if valid is not None else not anomalies
    return RunResult(
        target="http://127.0.0.1:8765", scenarios=("follow-up-isolation", "refresh"),
        settings={"users": 3, "seed": 7, "duration": 1.0}, started_at=1_764_000_000.0, elapsed=2.0,
        ops=ops, verdict=Verdict(verdict_valid, anomalies, Checked(operations=6, sessions=3, follow_ups=1,  # type: ignore[arg-type]
                                                                   history_reads=1)),
        latency=latency, errors={"http_503": 1},
        skipped_personas=(SkippedPersona("Obscure Artist", "the catalog has no tracks by them"),),
        harness_error=harness_error,
    )


def _render(result: RunResult, **kwargs: object) -> str:
    out = StringIO()
    report.render_summary(result, Console(file=out, width=100), **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def test_summary_shows_totals_latency_errors_and_skipped_personas() -> None:
    text = _render(_result())
    assert "6 (1 failed, 0 unknown)" in text
    assert "3.0 req/s" in text
    for kind in ("first_query", "follow_up", "history_read"):
        assert kind in text
    assert "http_503" in text
    assert "skipped persona Obscure Artist: the catalog has no tracks by them" in text


def test_summary_lists_every_property_with_its_status() -> None:
    text = _render(_result())
    for name in PROPERTIES:
        assert name in text
    assert "VIOLATED (1)" in text
    rows = {line.split("│")[1].strip(): line for line in text.splitlines() if line.count("│") >= 4}
    assert "held" in rows["id-collision"]
    assert "not exercised" in rows["refresh-leak"]          # no refresh op in this run
    assert "not exercised" in rows["adopted-client-id"]     # no made-up id was sent


def test_summary_verdict_line_witness_and_curl() -> None:
    text = _render(_result())
    assert "FAIL: bleeding 1, loss 0" in text
    assert "foreign-anchor: 1 found; the first witness:" in text
    assert "u2.c1 turn 2 anchored on u1.c1's request r-0" in text
    curl = next(line for line in text.splitlines() if line.startswith("curl "))
    assert "http://127.0.0.1:8765/recommendations" in curl and "X-Request-ID: r-2" in curl


@pytest.mark.parametrize(
    ("kwargs", "line"),
    [
        ({"anomalies": {}}, "PASS"),
        ({"anomalies": {}, "valid": "unknown"}, "UNKNOWN: nothing was checked"),
        ({"anomalies": {}, "valid": "unknown", "harness_error": "target unreachable"},
         "ERROR: the harness failed: target unreachable"),
    ],
)
def test_summary_verdict_lines(kwargs: dict[str, object], line: str) -> None:
    text = _render(_result(**kwargs))  # type: ignore[arg-type]
    assert line in text.splitlines()
    assert "first witness" not in text


def test_a_run_that_sent_nothing_shows_the_error_without_the_property_table() -> None:
    failed = replace(_result(anomalies={}, valid="unknown",
                             harness_error="target unreachable: connection refused"), ops=())
    text = _render(failed)
    assert "ERROR: the harness failed: target unreachable: connection refused" in text
    assert "Isolation properties" not in text and "not exercised" not in text
    assert "http://127.0.0.1:8765" in text  # the run table still names the target


def test_summary_shows_thresholds() -> None:
    judged = evaluate([parse_threshold("p99<1us"), parse_threshold("errors<50%")], _result(anomalies={}))
    text = _render(_result(anomalies={}), thresholds=judged)
    assert "BREACHED" in text and "thresholds breached: p99<1us" in text


def test_unknown_verdict_marks_every_property_not_exercised() -> None:
    statuses = report.property_statuses(_result(anomalies={}, valid="unknown"))
    assert {s.state for s in statuses} == {"not_exercised"}
    assert [s.property for s in statuses] == list(PROPERTIES)


NO_ANCHORS = ALL_EVIDENCE - {"anchor", "turn"}


def _without_anchors(**kwargs: object) -> RunResult:
    result = _result(**kwargs)  # type: ignore[arg-type]
    return replace(result, verdict=replace(result.verdict, evidence=NO_ANCHORS))


def test_a_property_the_target_cannot_show_is_not_checkable() -> None:
    statuses = {s.property: s for s in report.property_statuses(_without_anchors(anomalies={}))}
    assert (statuses["stale-anchor"].state, statuses["stale-anchor"].missing) == ("not_checkable", ("turn", "anchor"))
    assert (statuses["wrong-anchor"].state, statuses["wrong-anchor"].missing) == ("not_checkable", ("anchor",))
    assert statuses["id-collision"].state == "held" and statuses["id-collision"].missing == ()
    assert statuses["refresh-leak"].state == "not_exercised"
    # What the verdict was judged with is the default; a caller may say otherwise.
    assert {s.state for s in report.property_statuses(_result(anomalies={}), evidence=frozenset())} == {"not_checkable"}
    # A violation found is proven, whatever the profile shows.
    violated = {s.property: s.state for s in report.property_statuses(_without_anchors())}
    assert violated["foreign-anchor"] == "violated"


def test_not_checkable_in_the_summary_json_and_junit() -> None:
    result = _without_anchors(anomalies={})
    rows = {line.split("│")[1].strip(): line for line in _render(result).splitlines() if line.count("│") >= 4}
    assert "not checkable" in rows["wrong-anchor"] and "held" in rows["id-collision"]
    by_property = report.build_json_report(result)["verdict"]["by_property"]
    assert by_property["wrong-anchor"]["status"] == "not_checkable"
    root = report.build_junit(result).getroot()
    case = root.find("testsuite[@name='beatdebate.isolation.refresh']/testcase[@name='stale-anchor']")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "not checkable with this profile: needs turn, anchor"


def test_json_report_has_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.json"
    thresholds = [parse_threshold("p99<1us"), parse_threshold("errors<50%")]
    report.write_json_report(_result(), path, thresholds=thresholds)
    data = orjson.loads(path.read_bytes())
    assert list(data) == [
        "schema", "version", "generated_at", "target", "scenarios", "settings", "timings", "totals",
        "latency_ms", "errors", "skipped_personas", "checked", "coverage", "verdict", "anomalies",
        "anomalies_omitted", "thresholds", "time_series", "harness_error", "exit_code",
    ]
    assert (data["schema"], data["version"]) == ("beatdebate-report", 2)
    assert data["totals"] == {"requests": 6, "ok": 5, "failed": 1, "unknown": 0, "throughput_rps": 3.0,
                              "conversations": 3, "sessions": 3}
    assert list(data["latency_ms"]) == ["first_query", "follow_up", "history_read"]
    assert data["latency_ms"]["history_read"]["count"] == 1
    assert data["latency_ms"]["history_read"]["max"] == pytest.approx(50, rel=0.01)
    verdict = data["verdict"]
    assert (verdict["valid"], verdict["outcome"], verdict["bleeding"], verdict["loss"]) == (False, "fail", 1, 0)
    assert list(verdict["by_property"]) == list(PROPERTIES)
    assert verdict["by_property"]["foreign-anchor"] == {
        "class": "bleeding", "status": "violated", "count": 1,
        "description": PROPERTIES["foreign-anchor"][1]}
    (anomaly,) = data["anomalies"]
    assert anomaly["victim_ops"] == [2] and anomaly["source_ops"] == [0]
    assert anomaly["curl"].startswith("curl ") and "r-2" in anomaly["curl"]
    assert "victim op 2" in anomaly["description"]
    assert [(t["expression"], t["passed"]) for t in data["thresholds"]] == [("p99<1us", False), ("errors<50%", True)]
    assert data["exit_code"] == 1


def test_json_report_keys_are_documented() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "report-schema.md").read_text()
    data = report.build_json_report(_result(), thresholds=[parse_threshold("p99<1s")])
    missing = [key for key in _keys(data) if f"`{key}`" not in doc]
    assert missing == []


def _keys(data: object, prefix: str = "") -> list[str]:
    # Documented as dotted paths; maps keyed by data (latency kinds, properties, settings) stop there.
    if isinstance(data, list):
        return _keys(data[0], prefix + "[]") if data and isinstance(data[0], dict) else []
    if not isinstance(data, dict) or prefix in {"settings", "latency_ms", "errors", "verdict.by_property",
                                                 "anomalies_omitted", "anomalies[].value", "coverage",
                                                 "time_series.buckets[].latency_ms", "time_series.buckets[].error_kinds"}:
        return []
    out = []
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else key
        out += [path, *_keys(value, path)]
    return out


def test_json_report_caps_witnesses_but_keeps_counts() -> None:
    many = tuple(FOREIGN_ANCHOR for _ in range(5))
    data = report.build_json_report(_result(anomalies={"foreign-anchor": many}), anomaly_limit=2)
    assert len(data["anomalies"]) == 2
    assert data["anomalies_omitted"] == {"foreign-anchor": 3}
    assert data["verdict"]["bleeding"] == 5


def test_junit_one_testcase_per_property_per_scenario(tmp_path: Path) -> None:
    path = tmp_path / "gate.junit.xml"
    report.write_junit(_result(), path, thresholds=[parse_threshold("p99<1us"), parse_threshold("rps>1")])
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == ["beatdebate.isolation.follow-up-isolation", "beatdebate.isolation.refresh",
                            "beatdebate.thresholds", "beatdebate.run"]
    for scenario in ("follow-up-isolation", "refresh"):
        cases = suites[f"beatdebate.isolation.{scenario}"].findall("testcase")
        assert [c.get("name") for c in cases] == list(PROPERTIES)
        assert {c.get("classname") for c in cases} == {f"beatdebate.isolation.{scenario}"}
    failed = [(s.get("name"), c.get("name")) for s in root.findall("testsuite")
              for c in s.findall("testcase") if c.find("failure") is not None]
    assert failed == [("beatdebate.isolation.follow-up-isolation", "foreign-anchor"),
                      ("beatdebate.thresholds", "p99<1us")]
    failure = suites["beatdebate.isolation.follow-up-isolation"].find("testcase[@name='foreign-anchor']/failure")
    assert failure is not None and failure.get("type") == "bleeding"
    assert "anchored on u1.c1's request r-0" in (failure.text or "")
    assert "curl " in (failure.text or "")
    assert root.get("tests") == str(2 * len(PROPERTIES) + 2 + 2)
    assert root.get("failures") == "2"


def test_junit_marks_an_unchecked_run_and_a_harness_failure() -> None:
    root = report.build_junit(_result(anomalies={}, valid="unknown", harness_error="boom")).getroot()
    run = root.find("testsuite[@name='beatdebate.run']")
    assert run is not None
    assert run.find("testcase[@name='checked']/failure") is not None
    error = run.find("testcase[@name='harness']/error")
    assert error is not None and error.get("message") == "boom"
    isolation = root.find("testsuite[@name='beatdebate.isolation.refresh']")
    assert isolation is not None and isolation.get("skipped") == str(len(PROPERTIES))


def _render_dashboard(live: LiveStats) -> str:
    out = StringIO()
    Console(file=out, width=100).print(report.Dashboard(live, clock=lambda: 10.0))
    return out.getvalue()


def test_dashboard_shows_progress_latency_errors_and_newest_violations() -> None:
    live = LiveStats(planned_duration=30.0, started=0.0)
    live.phase = "running"
    live.active_users = 120
    for op in _ops():
        live.record(op)
    live.add_anomalies([FOREIGN_ANCHOR] * 7)
    text = _render_dashboard(live)
    assert "[running]" in text and "users 120" in text and "requests 6" in text
    assert "s / 30s" in text
    assert "follow_up" in text and "history_read" in text
    assert "http_503 1" in text
    assert "VIOLATIONS: bleeding 7, loss 0" in text and "foreign-anchor 7" in text
    assert text.count("u2.c1 turn 2 anchored on") == 5            # the newest few, not all


def test_dashboard_counts_only_new_anomalies_between_frames() -> None:
    live = LiveStats(planned_iterations=10, started=0.0)
    dashboard = report.Dashboard(live, clock=lambda: 1.0)
    console = Console(file=StringIO(), width=100)
    live.add_anomalies([FOREIGN_ANCHOR])
    console.print(dashboard)
    live.add_anomalies([FOREIGN_ANCHOR, FOREIGN_ANCHOR])
    out = StringIO()
    Console(file=out, width=100).print(dashboard)
    assert "VIOLATIONS: bleeding 3, loss 0" in out.getvalue()
    assert "iterations 0/10" in out.getvalue()


def test_dashboard_without_anything_yet() -> None:
    text = _render_dashboard(LiveStats(started=0.0))
    assert "violations: none so far" in text and "[starting]" in text


def test_public_api_is_exported() -> None:
    for name in report.__all__:
        assert getattr(report, name) is not None


def test_reports_of_a_real_run_against_a_leaky_fake(tmp_path: Path) -> None:
    # The runner end to end against the in-process fake that puts everyone in one session.
    from fakes import FakeServer

    from loadtest.runner import RunConfig, run

    result = run(RunConfig(http_transport=FakeServer(leaky=True).transport, users=6, iterations=2,
                           think_time=0, seed=3, ramp_up=0))
    data = report.write_json_report(result, tmp_path / "r.json", base_url="http://fake")
    assert data["verdict"]["outcome"] == "fail" and data["exit_code"] == 1
    assert data["verdict"]["by_property"]["foreign-request-id"]["status"] == "violated"
    ops = {op.index: op for op in result.ops}
    first = data["anomalies"][0]
    assert all(index in ops for index in first["victim_ops"] + first["source_ops"])
    assert first["curl"].startswith("curl ") and "http://fake/" in first["curl"]
    report.write_junit(result, tmp_path / "r.xml", base_url="http://fake")
    root = ET.parse(tmp_path / "r.xml").getroot()
    failed = {c.get("name") for c in root.iter("testcase") if c.find("failure") is not None}
    assert "foreign-request-id" in failed
    text = _render(result, base_url="http://fake")
    assert "FAIL: bleeding" in text and "foreign-request-id: " in text and "found; the first witness:" in text


def test_dashboard_latency_matches_the_summary() -> None:
    # The dashboard's one-pass percentiles must be the summary's figures, not an approximation.
    histogram = LatencyHistogram()
    for micros in range(1, 5000, 7):
        histogram.record(micros * 37e-6)
    found = histogram.percentiles()
    assert {f"p{p:g}": v for p, v in found.items()} == {k: v for k, v in histogram.summary().items()
                                                       if k.startswith("p")}


def test_plain_summary_lines_name_figures_violations_and_verdict() -> None:
    from loadtest.report.plain import summary_lines

    lines = summary_lines(_result())
    assert lines[0] == ("summary requests=6 rps=3.0 sessions=3 follow_ups_checked=1 history_reads=1 "
                        "follow_up_p99=20.0ms errors=1 bleeding=1 loss=0")
    assert lines[1] == ("violated foreign-anchor class=bleeding count=1: "
                        "u2.c1 turn 2 anchored on u1.c1's request r-0 'Songs by Mk.gee'")
    assert lines[-1] == "FAIL: bleeding 1, loss 0"
    assert summary_lines(_result(anomalies={}))[1:] == ["PASS"]


def test_plain_progress_line_and_thread() -> None:
    from loadtest.report.plain import plain_progress, progress_line

    live = LiveStats(phase="running", active_users=4)
    for op in _ops():
        live.record(op)
    live.add_anomalies([FOREIGN_ANCHOR])
    line = progress_line(live)
    assert line.startswith("progress t=") and " phase=running users=4 requests=6 " in line
    assert line.endswith(" errors=1 violations=1")
    out = StringIO()
    with plain_progress(live, Console(file=out, width=200), every=0.01):
        import time
        deadline = time.monotonic() + 5
        while "progress t=" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "requests=6" in out.getvalue()


COVERAGE = {
    "follow-up-isolation": ScenarioCoverage("follow-up-isolation", 4, completed=1, failed=9, cut=2,
                                            planned=40, checked=7),
    "plain": ScenarioCoverage("plain", 0, completed=3),
}


def _covered() -> RunResult:
    return replace(_result(anomalies={}), coverage=COVERAGE)


def test_summary_shows_coverage_per_scenario_and_default_thresholds() -> None:
    result = _covered()
    judged = evaluate([replace(parse_threshold("coverage>=90%"), origin="default")], result)
    text = _render(result, thresholds=judged)
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in text.splitlines() if line.count("│") >= 8}
    assert rows["follow-up-isolation"] == ["12", "1", "9", "2", "40", "7", "17.5%"]
    assert rows["plain"] == ["3", "3", "0", "0", "0", "0", "n/a"]
    assert "coverage>=90% (default)" in text and "BREACHED" in text
    assert "(lowest: follow-up-isolation, 7 of 40 planned" in text
    assert "thresholds breached: coverage>=90%" in text


def test_plain_lines_give_one_coverage_line_per_scenario() -> None:
    from loadtest.report.plain import summary_lines

    lines = summary_lines(_covered())
    assert lines[1:3] == [
        "coverage scenario=follow-up-isolation started=12 completed=1 failed=9 cut=2 planned=40 checked=7 share=17.5%",
        "coverage scenario=plain started=3 completed=3 failed=0 cut=0 planned=0 checked=0 share=n/a"]
    assert lines[3:] == ["PASS"]


def test_json_report_gives_coverage_and_each_thresholds_origin() -> None:
    result = _covered()
    judged = evaluate([parse_threshold("errors<70%"), replace(parse_threshold("coverage>=90%"), origin="default")],
                      result)
    data = report.build_json_report(result, thresholds=judged)
    assert data["coverage"] == {
        "follow-up-isolation": {"applicable": True, "planned_per_conversation": 4,
                                "conversations": {"started": 12, "completed": 1, "failed": 9, "cut": 2},
                                "follow_ups": {"planned": 40, "checked": 7}, "share": 7 / 40},
        "plain": {"applicable": False, "planned_per_conversation": 0,
                  "conversations": {"started": 3, "completed": 3, "failed": 0, "cut": 0},
                  "follow_ups": {"planned": 0, "checked": 0}, "share": None},
    }
    assert [(t["expression"], t["origin"], t["passed"]) for t in data["thresholds"]] == [
        ("errors<70%", "given", True), ("coverage>=90%", "default", False)]
    assert data["thresholds"][1]["observed"] == pytest.approx(0.175)
    assert data["exit_code"] == 3


def test_junit_names_the_scenario_that_fell_short_of_a_coverage_threshold() -> None:
    result = replace(_covered(), coverage={**COVERAGE, "refresh": ScenarioCoverage("refresh", 1, completed=5,
                                                                                     planned=5, checked=5)})
    root = report.build_junit(result, thresholds=[parse_threshold("coverage>=50%")]).getroot()
    suite = root.find("testsuite[@name='beatdebate.coverage']")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert list(cases) == ["follow-up-isolation", "plain", "refresh"]
    failure = cases["follow-up-isolation"].find("failure")
    assert failure is not None and failure.get("message") == "coverage 17.5% breaches coverage>=50%"
    assert "12 started, 1 completed, 9 failed, 2 cut" in (failure.text or "")
    skipped = cases["plain"].find("skipped")
    assert skipped is not None and (skipped.get("message") or "").startswith("not applicable")
    assert cases["refresh"].find("failure") is None and cases["refresh"].find("system-out") is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    # A run without coverage counted (a history judged offline) has no such suite.
    assert report.build_junit(_result()).getroot().find("testsuite[@name='beatdebate.coverage']") is None
