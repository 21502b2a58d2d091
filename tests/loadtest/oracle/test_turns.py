"""foreign-request-id, missing-turn, duplicate-turn, turn-gap."""

from __future__ import annotations

from oracle_build import Builder, chat, sid, summary, tracks

from loadtest.oracle import check


def test_history_listing_another_conversations_request_is_foreign_request_id() -> None:
    h = Builder()
    mine = chat(h, "u1.c1", "s1", "Burial", pages=1)
    theirs = chat(h, "u2.c1", "s2", "Mk.gee", pages=1)
    read = h.read("u1.c1", "s1", recorded=[mine[0], mine[1], (3, theirs[0].request_id)], turn_count=3)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"foreign-request-id": [("bleeding", "u1.c1", (read.index,), (theirs[0].index,))]})
    anomaly = verdict.anomalies["foreign-request-id"][0]
    assert anomaly.session == sid("s1")
    assert anomaly.value == {"turn": 3, "request_id": theirs[0].request_id, "sent_by": "u2.c1"}


def test_acknowledged_turn_absent_from_a_later_read_is_missing_turn() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=2)
    read = h.read("u1.c1", "s1", recorded=[ops[0], ops[1]], turn_count=3)
    verdict = check(h.ops)
    # The read's turns end at 2 although turn_count is 3: that is a gap as well.
    assert summary(verdict) == (False, {
        "missing-turn": [("loss", "u1.c1", (ops[2].index, read.index), ())],
        "turn-gap": [("loss", "u1.c1", (read.index,), ())]})
    assert verdict.anomalies["missing-turn"][0].value == {
        "request_id": ops[2].request_id, "turn": 3, "turn_count": 3, "read": read.index}


def test_missing_turn_alone_when_the_turn_was_replaced() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=1)
    read = h.read("u1.c1", "s1", recorded=[ops[0], (2, "r-overwritten")], turn_count=2)
    assert summary(check(h.ops)) == (False, {"missing-turn": [("loss", "u1.c1", (ops[1].index, read.index), ())]})


def test_turns_trimmed_by_history_limit_are_not_missing() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=3, chained=True)
    h.read("u1.c1", "s1", recorded=ops[2:], turn_count=4)
    assert check(h.ops, history_limit=2).valid is True
    assert "missing-turn" in check(h.ops, history_limit=3).anomalies


def test_a_request_of_unknown_outcome_is_never_missing_and_may_explain_an_extra_turn() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    lost = h.more("u1.c1", "s1", anchor=first, status="unknown", sent=True)
    again = h.more("u1.c1", "s1", anchor=first, step="retry", turn=3, tracks_=tracks("Burial", start=6))
    h.read("u1.c1", "s1", recorded=[first, (2, lost.request_id), again], turn_count=3)
    h.read("u1.c1", "s1", recorded=[first, (2, "r-recorded-anyway"), again], turn_count=3)
    assert check(h.ops).valid is True


def test_an_answer_still_in_flight_when_the_read_started_is_not_missing() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", at=(0.0, 0.5))
    h.more("u1.c1", "s1", anchor=first, at=(1.0, 3.0))
    h.read("u1.c1", "s1", recorded=[first], turn_count=1, at=(2.0, 2.5))
    assert check(h.ops).valid is True


def test_two_answers_with_one_turn_number_are_duplicate_turn() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    a = h.more("u1.c1", "s1", anchor=first, turn=2, tracks_=tracks("Burial", start=3))
    b = h.more("u1.c1", "s1", anchor=first, turn=2, step="tab2", tracks_=tracks("Burial", start=6))
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"duplicate-turn": [("loss", "u1.c1", (a.index, b.index), ())]})
    assert verdict.anomalies["duplicate-turn"][0].value == {"turn": 2, "request_ids": [a.request_id, b.request_id]}


def test_a_request_recorded_twice_is_duplicate_turn() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=1)
    read = h.read("u1.c1", "s1", recorded=[ops[0], ops[1], (3, ops[1].request_id)], turn_count=3)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"duplicate-turn": [("loss", "u1.c1", (read.index,), ())]})
    assert verdict.anomalies["duplicate-turn"][0].value == {"request_ids": [ops[1].request_id],
                                                           "turns": {ops[1].request_id: [2, 3]}}


def test_non_consecutive_turns_are_a_turn_gap() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=1)
    read = h.read("u1.c1", "s1", recorded=[ops[0], (3, ops[1].request_id)], turn_count=3)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"turn-gap": [("loss", "u1.c1", (read.index,), ())]})
    assert "are not consecutive" in verdict.anomalies["turn-gap"][0].explanation


def test_turn_count_below_the_acknowledged_turns_is_a_turn_gap() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=2)
    read = h.read("u1.c1", "s1", recorded=[(1, ops[1].request_id), (2, ops[2].request_id)], turn_count=2)
    verdict = check(h.ops, history_limit=2)
    # turn 1 is still inside the window of 2 (turn_count 2), so it is missing as well.
    assert summary(verdict) == (False, {"missing-turn": [("loss", "u1.c1", (ops[0].index, read.index), ())],
                                        "turn-gap": [("loss", "u1.c1", (read.index, ops[2].index), ())]})
    assert verdict.anomalies["turn-gap"][0].value == {"turns": [1, 2], "turn_count": 2, "acknowledged_before": 3}


def test_history_limit_fixes_where_the_listed_turns_start() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=2, chained=True)
    h.read("u1.c1", "s1", recorded=ops[2:], turn_count=3)
    # With a window of 2 the read must list turns 2 and 3: turn 2 is both a gap and missing.
    assert summary(check(h.ops, history_limit=2)) == (False, {
        "missing-turn": [("loss", "u1.c1", (ops[1].index, 3), ())],
        "turn-gap": [("loss", "u1.c1", (3,), ())]})
    assert check(h.ops, history_limit=1).valid is True
