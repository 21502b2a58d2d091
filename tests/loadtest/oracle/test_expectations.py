"""expectation-failed."""

from __future__ import annotations

from dataclasses import replace

from oracle_build import Builder, summary

from loadtest.history import FOLLOW_UP_FLAG, Expect
from loadtest.oracle import check


def test_wrong_intent_kind_is_expectation_failed_with_both_values() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", kind="discovery", expect=Expect(kind="by_artist"))
    h.more("u1.c1", "s1", anchor=first)
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"expectation-failed": [("loss", "u1.c1", (first.index,), ())]})
    anomaly = verdict.anomalies["expectation-failed"][0]
    assert anomaly.value == {"kind": {"expected": "by_artist", "actual": "discovery"}}
    assert anomaly.explanation.endswith("at step 'first': kind 'discovery', expected 'by_artist'")


def test_follow_up_kind_and_new_session_are_judged() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", expect=Expect(kind="by_artist", new_session=True))
    more = h.more("u1.c1", "s1", anchor=first, follow_up="more_from_artist",
                  expect=Expect(kind="follow_up", follow_up="more_tracks", anchor="first", new_session=True))
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"expectation-failed": [("loss", "u1.c1", (more.index,), ())]})
    assert verdict.anomalies["expectation-failed"][0].value == {
        "follow_up": {"expected": "more_tracks", "actual": "more_from_artist"},
        "session_created": {"expected": True, "actual": False}}


def test_failed_and_unknown_requests_are_not_judged() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=first, status="fail", expect=Expect(kind="nonsense"))
    h.more("u1.c1", "s1", anchor=first, status="unknown", expect=Expect(kind="nonsense"))
    h.more("u1.c1", "s1", anchor=first, step="ok", tracks_=None)
    assert check(h.ops).valid is True


def test_a_bare_follow_up_flag_meets_any_expected_kind() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial", expect=Expect(kind="by_artist"))
    h.more("u1.c1", "s1", anchor=first, follow_up=FOLLOW_UP_FLAG,
           expect=Expect(kind="follow_up", follow_up="more_tracks", anchor="first"))
    assert check(h.ops).valid is True
    h.more("u1.c1", "s1", anchor=first, follow_up="more_from_artist", step="kinded",
           expect=Expect(kind="follow_up", follow_up="more_tracks", anchor="first"))
    assert "expectation-failed" in check(h.ops).anomalies   # a real kind is still judged


def test_new_session_is_not_judged_after_an_op_of_unknown_outcome_in_the_conversation() -> None:
    # The refresh's delete got no answer: it may or may not have deleted s1. The next query
    # expected to stay in s1 and was given a new session: fine if the delete took effect.
    h = Builder()
    h.first("u1.c1", "s1", artist="Burial", expect=Expect(kind="by_artist"))
    delete = h.delete("u1.c1", "s1", step="delete")
    h.ops[delete.index] = replace(delete, status="unknown", completed_at=None, http_status=None,
                                  error="timeout: no answer within 10s")
    moved = h.first("u1.c1", "s2", "Burial music", step="genre", sent="s1", created=True,
                    expect=Expect(kind="by_artist", new_session=False))
    assert check(h.ops).anomalies == {}
    # Without the unknown delete, the same answer is a loss.
    clean = [op for op in h.ops if op.index != delete.index]
    assert summary(check(clean)) == (False, {"expectation-failed": [("loss", "u1.c1", (moved.index,), ())]})


def test_other_expectations_are_still_judged_after_an_op_of_unknown_outcome() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=first, status="unknown", sent=True)
    odd = h.more("u1.c1", "s1", anchor=first, step="odd", follow_up="more_from_artist",
                 expect=Expect(kind="follow_up", follow_up="more_tracks", anchor="first", new_session=True))
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"expectation-failed": [("loss", "u1.c1", (odd.index,), ())]})
    assert verdict.anomalies["expectation-failed"][0].value == {
        "follow_up": {"expected": "more_tracks", "actual": "more_from_artist"}}
