"""Fault windows as records: in the history's header (read back, and absent from older files),
in ``beatdebate check``'s result with the same verdict, and in the witness notes of every report."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import orjson
from rich.console import Console

import loadtest.report as report
from loadtest.history import (
    Expect,
    FaultWindow,
    Op,
    RecordedTurn,
    read_fault_windows,
    read_history,
    write_history,
)
from loadtest.oracle import check
from loadtest.oracle.explain import describe, fault_note, windows_around
from loadtest.oracle.model import Anomaly
from loadtest.result import RunResult
from loadtest.runner import check_history

SESSION = "S" * 43
PAUSE = FaultWindow("pause-worker", 2.0, 7.1, "worker pid 42 of 2 stopped for 5.06 s, past the 5 s lock lease")
ABORT = FaultWindow("abort", 9.0, 11.0, "12 of 80 requests picked to be cut off once sent (share 0.2)")


def turn(index: int, turn_number: int, at: float, *, done: float | None = 0.1, rid: str | None = None) -> Op:
    return Op(index=index, user=1, conversation="u1.c1", scenario="same-session-burst", step="double-submit",
              action="recommend", status="ok" if done is not None else "unknown", invoked_at=at,
              completed_at=None if done is None else at + done, request_id=rid or f"r{index}",
              session_sent=SESSION if turn_number > 1 else None, session=SESSION, http_status=200,
              query="More tracks" if turn_number > 1 else "Songs by Mk.gee",
              expect=Expect(follow_up="more_tracks") if turn_number > 1 else Expect(), turn=turn_number)


def doubled() -> list[Op]:
    """The stale lock's history: two answers of one session as turn 2, the history [1, 2, 2]."""
    return [
        turn(0, 1, 1.0),
        turn(1, 2, 2.5, done=5.2),        # stalled in the paused worker
        turn(2, 2, 2.6, done=5.0),
        Op(index=3, user=1, conversation="u1.c1", scenario="same-session-burst", step="history",
           action="read_history", status="ok", invoked_at=8.0, completed_at=8.1, request_id="r3",
           session_sent=SESSION, session=SESSION, http_status=200, turn_count=3,
           recorded=(RecordedTurn(1, "r0"), RecordedTurn(2, "r1"), RecordedTurn(2, "r2"))),
    ]


def test_the_header_keeps_the_windows_and_an_older_file_has_none(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_history(path, doubled(), meta={"settings": {"seed": 3}}, faults=(PAUSE, ABORT))
    assert read_fault_windows(path) == (PAUSE, ABORT)
    assert read_history(path) == doubled()
    header = orjson.loads(path.read_bytes().splitlines()[0])
    assert header["faults"][0] == {"name": "pause-worker", "start": 2.0, "end": 7.1, "detail": PAUSE.detail}
    older = tmp_path / "older.jsonl"
    write_history(older, doubled(), meta={"settings": {"seed": 3}})
    assert "faults" not in orjson.loads(older.read_bytes().splitlines()[0])
    assert read_fault_windows(older) == ()


def test_check_rejudges_with_the_same_verdict_and_the_windows(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_history(path, doubled(), faults=(PAUSE,))
    result = check_history(path)
    assert result.faults == (PAUSE,)
    judged = check(doubled())
    assert (result.verdict.valid, result.verdict.anomalies) == (judged.valid, judged.anomalies)
    assert result.verdict.valid is False and "duplicate-turn" in result.verdict.anomalies


def first_duplicate() -> Anomaly:
    return check(doubled()).anomalies["duplicate-turn"][0]


def test_a_witness_inside_a_window_is_noted_and_one_outside_is_not() -> None:
    ops = {op.index: op for op in doubled()}
    anomaly = first_duplicate()
    assert windows_around(anomaly, ops, (PAUSE, ABORT)) == (PAUSE,)
    assert fault_note(anomaly, ops, (PAUSE, ABORT)) == (
        f"inside fault window pause-worker 2.0–7.1 s ({PAUSE.detail})")
    assert fault_note(anomaly, ops, (ABORT,)) is None and fault_note(anomaly, ops, ()) is None
    assert describe(anomaly, ops, (PAUSE,)).endswith(f"  inside fault window pause-worker 2.0–7.1 s ({PAUSE.detail})")
    assert "fault window" not in describe(anomaly, ops)


def test_an_unanswered_op_counts_at_its_invocation() -> None:
    ops = {0: turn(0, 2, 11.5, done=None)}
    anomaly = Anomaly("duplicate-turn", "loss", SESSION, "u1.c1", "same-session-burst", victim=(0,))
    assert windows_around(anomaly, ops, (PAUSE, ABORT)) == ()
    ops = {0: turn(0, 2, 10.0, done=None)}
    assert windows_around(anomaly, ops, (PAUSE, ABORT)) == (ABORT,)


def result_with_windows() -> RunResult:
    ops = doubled()
    verdict = check(ops)
    return RunResult(target="http://127.0.0.1:8765", scenarios=("same-session-burst",), settings={"seed": 3},
                     started_at=1_764_000_000.0, elapsed=12.0, ops=ops, verdict=verdict, latency={},
                     faults=(PAUSE, ABORT))


def test_the_summary_lists_the_windows_and_notes_the_witness() -> None:
    out = StringIO()
    report.render_summary(result_with_windows(), Console(file=out, width=200))
    text = out.getvalue()
    assert "Fault windows (nemesis)" in text
    assert "pause-worker" in text and "12 of 80 requests picked to be cut off" in text
    assert "  inside fault window pause-worker 2.0–7.1 s" in text


def test_the_json_report_has_the_windows_and_each_witness_its_own() -> None:
    data = report.build_json_report(result_with_windows(), now=0.0)
    assert data["faults"] == [
        {"name": "pause-worker", "start_s": 2.0, "end_s": 7.1, "detail": PAUSE.detail},
        {"name": "abort", "start_s": 9.0, "end_s": 11.0, "detail": ABORT.detail}]
    duplicate = next(a for a in data["anomalies"] if a["property"] == "duplicate-turn")
    assert [w["name"] for w in duplicate["fault_windows"]] == ["pause-worker"]
    doc = (Path(__file__).parents[3] / "docs" / "report-schema.md").read_text()
    assert "`faults[].detail`" in doc and "`anomalies[].fault_windows`" in doc
    plain = report.build_json_report(RunResult(**{**result_with_windows().__dict__, "faults": ()}), now=0.0)
    assert "faults" not in plain and all("fault_windows" not in a for a in plain["anomalies"])


def test_junit_notes_the_witness_and_lists_the_windows() -> None:
    root = report.build_junit(result_with_windows()).getroot()
    failure = next(case.find("failure") for case in root.iter("testcase")
                   if case.get("name") == "duplicate-turn" and case.find("failure") is not None)
    assert failure is not None and "inside fault window pause-worker 2.0–7.1 s" in (failure.text or "")
    faults = next(case for case in root.iter("testcase") if case.get("name") == "faults")
    assert faults.get("classname") == "beatdebate.run"
    out = faults.find("system-out")
    assert out is not None and (out.text or "").splitlines() == [
        f"pause-worker 2.0–7.1 s: {PAUSE.detail}", f"abort 9.0–11.0 s: {ABORT.detail}"]
    assert ET.tostring(root)   # it serialises


def test_the_dashboard_shows_the_windows_and_the_one_in_force() -> None:
    from loadtest.live import FAULT_IN_FORCE, LiveStats
    from loadtest.report.dashboard import Dashboard

    live = LiveStats(planned_duration=20.0)
    live.phase = "running"
    live.faults.append(PAUSE)
    live.started -= 12.0                                          # 12 s into the run
    live.faults.append(FaultWindow("abort", 10.0, 13.0, FAULT_IN_FORCE))
    out = StringIO()
    Console(file=out, width=160).print(Dashboard(live))
    text = out.getvalue()
    assert "faults: pause-worker 2.0–7.1s, abort 10.0–13.0s (in force)" in text
