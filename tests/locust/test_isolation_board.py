"""``loadtest.isolation_board``: rows, the merged verdict and the exit code rule."""

from __future__ import annotations

from typing import cast

from loadtest.history import Op
from loadtest.isolation_board import COLUMNS, IsolationBoard, exit_code, summary_of, violation_row
from loadtest.oracle import ALL_EVIDENCE, PROPERTIES, Anomaly, Checked, Exercise, Verdict
from loadtest.oracle.explain import session_ref
from loadtest.outcome import ExitCode

SESSION = "S" * 43


def op(index: int, conversation: str, query: str = "More tracks") -> Op:
    return Op(index=index, user=index, conversation=conversation, scenario="chat", step="more",
              action="recommend", status="ok", invoked_at=float(index), completed_at=index + 0.5,
              request_id=f"r{index}", session_sent=SESSION, session=SESSION, query=query, turn=2)


def anomaly(prop: str = "foreign-anchor", victim: tuple[int, ...] = (1,), source: tuple[int, ...] = (0,)) -> Anomaly:
    return Anomaly(property=prop, cls="bleeding", session=SESSION, conversation="u1.c1", scenario="chat",
                   victim=victim, source=source, explanation="u1.c1 turn 2 anchored on u0.c1 turn 1")


def seen(**counts: int) -> dict[Exercise, int]:
    """What a process's operations exercised (``loadtest.oracle.properties.exercised``)."""
    return {cast(Exercise, name): count for name, count in counts.items()}


def row(prop: str, n: int, worker: str = "w0") -> dict[str, str]:
    return violation_row(anomaly(prop, victim=(n,)), {}, base_url="http://t", worker=worker)


def test_a_row_carries_the_witness_and_a_replay_but_never_a_raw_session_id_outside_curl() -> None:
    ops = {0: op(0, "u0.c1", "Songs by Burial"), 1: op(1, "u1.c1")}
    found = violation_row(anomaly(), ops, base_url="http://target:1", worker="w3")
    assert [key for key, _ in COLUMNS if key not in found] == []
    assert (found["property"], found["cls"], found["worker"], found["conversation"]) == (
        "foreign-anchor", "bleeding", "w3", "u1.c1")
    assert found["session"] == session_ref(SESSION)
    assert found["explanation"] == "u1.c1 turn 2 anchored on u0.c1 turn 1"
    assert found["ops"] == ("victim op 1: u1.c1 (session " + session_ref(SESSION) + ") turn 2 'More tracks'\n"
                            "source op 0: u0.c1 (session " + session_ref(SESSION) + ") turn 2 'Songs by Burial'")
    assert found["witness"].startswith("foreign-anchor (bleeding): u1.c1 turn 2 anchored on u0.c1 turn 1")
    assert "victim op 1" in found["witness"] and "source op 0" in found["witness"]
    assert found["curl"].startswith("curl ") and "http://target:1/recommendations" in found["curl"]
    assert SESSION not in found["witness"] + found["ops"] + found["explanation"] + found["session"]


def test_the_board_keeps_each_violation_once_and_counts_past_its_row_limit() -> None:
    board = IsolationBoard(max_rows=2)
    first = [row("foreign-anchor", 1), row("foreign-anchor", 2)]
    assert board.add(first) == first
    assert board.add([row("foreign-anchor", 1), row("missing-turn", 3)]) == [row("missing-turn", 3)]
    assert board.counts == {"foreign-anchor": 2, "missing-turn": 1}
    assert board.rows == first
    assert board.snapshot()["violations"] == 3


def test_the_same_anomaly_on_two_workers_is_two_violations() -> None:
    board = IsolationBoard()
    assert len(board.add([row("foreign-anchor", 1, "w0"), row("foreign-anchor", 1, "w1")])) == 2


def test_shown_takes_rows_in_turn_from_each_property_bleeding_first() -> None:
    board = IsolationBoard()
    board.add([row("missing-turn", 1), row("missing-turn", 2), row("missing-turn", 3),
               row("foreign-anchor", 4)])
    assert [r["property"] for r in board.shown(3)] == ["foreign-anchor", "missing-turn", "missing-turn"]


def test_the_verdict_fails_on_any_violation_and_passes_only_when_something_was_checked() -> None:
    board = IsolationBoard()
    assert (board.valid, board.exit_code) == ("unknown", ExitCode.ISOLATION)
    clean = Verdict(valid=True, anomalies={}, checked=Checked(operations=9, follow_ups=3))
    board.add_summary(summary_of(clean, worker="w0"))
    board.add_summary(summary_of(Verdict(valid="unknown", anomalies={}), worker="w1"))
    assert (board.valid, board.exit_code) == (True, ExitCode.OK)
    board.add([row("foreign-anchor", 1, "w1")])
    assert (board.valid, board.exit_code) == (False, ExitCode.ISOLATION)
    board.reset()
    assert (board.valid, board.rows, board.summaries) == ("unknown", [], {})


def test_a_summary_is_the_verdict_without_its_anomalies() -> None:
    verdict = Verdict(valid=False, anomalies={"foreign-anchor": (anomaly(),)},
                      checked=Checked(operations=4, sessions=2, follow_ups=1, history_reads=1))
    assert summary_of(verdict, worker="w2", exercised=seen(answers=3, follow_ups=1)) == {
        "worker": "w2", "valid": False, "anomalies": 1,
        "checked": {"operations": 4, "sessions": 2, "follow_ups": 1, "history_reads": 1},
        "exercised": {"answers": 3, "follow_ups": 1}}
    assert summary_of(verdict, worker="w2")["exercised"] == {}


def test_an_allowed_property_is_reported_but_does_not_fail_the_board() -> None:
    board = IsolationBoard()
    board.configure(profile="mine", allowed={"foreign-anchor"})
    board.add_summary(summary_of(Verdict(valid=True, anomalies={}), worker="w0",
                                 exercised=seen(answers=4, follow_ups=2)))
    found = violation_row(anomaly("foreign-anchor"), {}, base_url="http://t", worker="w0", allowed=True)
    board.add([found])
    assert found["state"] == "allowed" and row("foreign-anchor", 1)["state"] == "violated"
    assert (board.valid, board.exit_code) == (True, ExitCode.OK)
    statuses = board.statuses()
    assert statuses["foreign-anchor"] == {"class": "bleeding", "status": "allowed", "count": 1,
                                          "description": PROPERTIES["foreign-anchor"][1]}
    assert statuses["lost-context"]["status"] == "held"            # exercised by follow-ups
    assert statuses["foreign-request-id"]["status"] == "not_exercised"   # no history read anywhere
    board.add([row("missing-turn", 2)])                              # not allowed: fails the run
    assert (board.valid, board.exit_code) == (False, ExitCode.ISOLATION)


def test_properties_the_evidence_cannot_show_are_not_checkable_in_the_json_and_the_tab() -> None:
    board = IsolationBoard()
    board.configure(profile="no-history", evidence=ALL_EVIDENCE - {"history"})
    board.add_summary(summary_of(Verdict(valid=True, anomalies={}), worker="local",
                                 exercised=seen(answers=4, follow_ups=2, history_reads=1)))
    board.add([row("foreign-anchor", 1)])
    snapshot = board.snapshot()
    assert (snapshot["profile"], "history" in snapshot["evidence"]) == ("no-history", False)
    not_checkable = {name: status["missing_evidence"] for name, status in snapshot["by_property"].items()
                     if status["status"] == "not_checkable"}
    assert not_checkable == {name: ["history"] for name in ("foreign-request-id", "missing-turn", "turn-gap")}
    assert list(snapshot["by_property"]) == list(PROPERTIES)
    shown = board.shown(10)
    assert [r["state"] for r in shown] == ["violated", "not checkable", "not checkable", "not checkable"]
    assert shown[1]["explanation"] == "not checkable with profile no-history: needs history"
    assert all(set(r) >= {key for key, _ in COLUMNS} for r in shown)
    assert snapshot["rows"] == [row("foreign-anchor", 1)]          # the JSON's rows are violations only


def test_a_board_that_judged_nothing_exercised_nothing() -> None:
    board = IsolationBoard()
    board.add_summary(summary_of(Verdict(valid="unknown", anomalies={}), worker="local",
                                 exercised=seen(answers=2)))
    assert {status["status"] for status in board.statuses().values()} == {"not_exercised"}


def test_exit_codes_follow_the_one_table() -> None:
    assert [exit_code(True), exit_code(False), exit_code("unknown")] == [0, 1, 1]
