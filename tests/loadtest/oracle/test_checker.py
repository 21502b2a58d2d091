"""check, IncrementalChecker, PROPERTIES, validity, and the JSONL round trip."""

from __future__ import annotations

import random
from pathlib import Path

from oracle_build import Builder, chat, summary, tracks

import loadtest.oracle
from loadtest.history import Expect, read_history, write_history
from loadtest.oracle import PROPERTIES, Checked, IncrementalChecker, Verdict, check


def test_properties_are_exhaustive_with_class_and_description() -> None:
    assert list(PROPERTIES) == [
        "foreign-request-id", "foreign-anchor", "foreign-content", "refresh-leak", "adopted-client-id",
        "id-collision", "weak-id", "nondeterministic-answer", "foreign-canary", "missing-turn",
        "duplicate-turn", "turn-gap", "lost-context", "wrong-anchor", "stale-anchor", "off-subject",
        "repeated-track", "expectation-failed", "lost-canary"]
    for name, (cls, description) in PROPERTIES.items():
        assert cls in ("bleeding", "loss") and description and "\n" not in description, name
    bleeding = {name for name, (cls, _) in PROPERTIES.items() if cls == "bleeding"}
    assert bleeding == {"foreign-request-id", "foreign-anchor", "foreign-content", "refresh-leak",
                        "adopted-client-id", "id-collision", "weak-id", "nondeterministic-answer",
                        "foreign-canary"}


def test_dunder_all_is_honest() -> None:
    for name in loadtest.oracle.__all__:
        assert hasattr(loadtest.oracle, name), name
    assert {"check", "IncrementalChecker", "PROPERTIES", "Verdict", "Anomaly", "curl_for", "explain"} <= set(
        loadtest.oracle.__all__)


def test_an_empty_history_is_unknown() -> None:
    assert check([]) == Verdict(valid="unknown", anomalies={}, checked=Checked())


def test_only_first_queries_is_unknown() -> None:
    h = Builder()
    for n in range(3):
        h.first(f"u{n}.c1", f"s{n}", artist="Burial")
    assert check(h.ops) == Verdict(valid="unknown", anomalies={},
                                   checked=Checked(operations=3, sessions=3, follow_ups=0, history_reads=0))


def test_only_failed_follow_ups_is_unknown() -> None:
    h = Builder()
    first = h.first("u1.c1", "s1", artist="Burial")
    h.more("u1.c1", "s1", anchor=first, status="fail")
    h.more("u1.c1", "s1", anchor=first, status="unknown")
    assert check(h.ops).valid == "unknown"


def test_an_anomaly_without_follow_ups_is_still_a_failure() -> None:
    h = Builder()
    mine = h.first("u1.c1", "s1", artist="Burial")
    theirs = h.first("u2.c1", "s2", artist="Mk.gee")
    h.read("u1.c1", "s1", recorded=[mine, (2, theirs.request_id)], turn_count=2)
    assert check(h.ops).valid is False


def _busy_history() -> Builder:
    """Twelve conversations overlapping in time, with reads, a refresh and some bleeding."""
    h = Builder()
    artists = ["Burial", "Mk.gee", "Sigur Rós", "Björk"]
    firsts = {}
    for n in range(12):
        conv = f"u{n}.c1"
        firsts[conv] = h.first(conv, f"s{n}", f"Songs by {artists[n % 4]}", artist=artists[n % 4],
                               tracks_=tracks(artists[n % 4], prefix=f"t{n % 4}"), at=(n * 0.1, n * 0.1 + 2.0))
    for n in range(12):
        conv = f"u{n}.c1"
        h.more(conv, f"s{n}", anchor=firsts[conv], tracks_=tracks(artists[n % 4], start=3, prefix=f"t{n % 4}"),
               at=(3.0 + n * 0.1, 4.0 + n * 0.05))
    h.more("u5.c1", "s5", anchor=firsts["u2.c1"], step="leak", at=(5.0, 5.5))         # foreign-anchor
    h.more("u6.c1", "s6", anchor=firsts["u6.c1"], step="content", at=(5.1, 5.6),
           tracks_=tracks("Burial", start=40))                                       # foreign-content
    h.read("u1.c1", "s1", at=(6.0, 6.1))
    h.read("u3.c1", "s3", recorded=[firsts["u3.c1"], h.ops[15], (3, firsts["u4.c1"].request_id)],
           turn_count=3, at=(6.0, 6.2))                                                            # foreign-request-id
    h.delete("u7.c1", "s7", at=(7.0, 7.1))
    h.subject("u7.c2", artist="Mk.gee")
    h.more("u7.c2", "s7b", anchor=None, expect_anchor="none", content=(), tracks_=(), at=(7.2, 7.3))
    return h


def test_clean_concurrent_conversations_pass() -> None:
    h = Builder()
    starts = [h.first(f"u{n}.c1", f"s{n}", f"Songs by A{n}", artist=f"A{n}", at=(0.0, 1.0 + n)) for n in range(5)]
    for n, first in enumerate(starts):
        h.more(f"u{n}.c1", f"s{n}", anchor=first, at=(2.0 + n, 9.0))
    for n in range(5):
        h.read(f"u{n}.c1", f"s{n}", at=(10.0, 10.5))
    assert check(h.ops) == Verdict(valid=True, anomalies={},
                                   checked=Checked(operations=15, sessions=5, follow_ups=5, history_reads=5))


def test_the_busy_history_shows_exactly_its_injected_anomalies() -> None:
    found = summary(check(_busy_history().ops))
    assert found == (False, {
        "foreign-request-id": [("bleeding", "u3.c1", (27,), (4,))],
        "foreign-anchor": [("bleeding", "u5.c1", (24,), (2,))],
        "foreign-content": [("bleeding", "u6.c1", (25,), (8,))]})


def test_incremental_checker_gives_checks_verdict_in_any_completion_order() -> None:
    ops = _busy_history().ops
    expected = check(ops)
    for seed in range(5):
        shuffled = list(ops)
        random.Random(seed).shuffle(shuffled)
        checker = IncrementalChecker()
        early = [anomaly for op in shuffled for anomaly in checker.observe(op)]
        verdict = checker.finish()
        assert verdict == expected
        # Whatever observe reported early is in the final verdict, exactly.
        for anomaly in early:
            assert anomaly in verdict.anomalies[anomaly.property]


def test_observe_reports_a_foreign_anchor_as_soon_as_it_completes() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=0)
    chat(h, "u2.c1", "s2", "Mk.gee", pages=0)
    leak = h.more("u2.c1", "s2", anchor=burial[0])
    checker = IncrementalChecker()
    assert checker.observe(h.ops[0]) == []
    assert checker.observe(h.ops[1]) == []
    new = checker.observe(leak)
    assert [(a.property, a.victim, a.source) for a in new] == [("foreign-anchor", (leak.index,), (burial[0].index,))]
    assert checker.finish().anomalies["foreign-anchor"] == tuple(new)


def test_observe_reports_a_foreign_anchor_when_the_anchors_sender_arrives_later() -> None:
    h = Builder()
    burial = chat(h, "u1.c1", "s1", "Burial", pages=0)
    chat(h, "u2.c1", "s2", "Mk.gee", pages=0)
    leak = h.more("u2.c1", "s2", anchor=burial[0])
    checker = IncrementalChecker()
    assert checker.observe(leak) == []
    assert checker.observe(h.ops[1]) == []
    assert [a.property for a in checker.observe(burial[0])] == ["foreign-anchor"]


def test_observe_reports_foreign_request_ids_and_expectations_at_once() -> None:
    ops = _busy_history().ops
    checker = IncrementalChecker()
    early = [a.property for op in ops for a in checker.observe(op)]
    assert early == ["foreign-anchor", "foreign-request-id"]


def test_history_limit_reaches_every_detector() -> None:
    h = Builder()
    ops = chat(h, "u1.c1", "s1", "Burial", pages=3, chained=True)
    h.read("u1.c1", "s1", recorded=ops[2:], turn_count=4)
    assert check(h.ops, history_limit=2).valid is True
    verdict = check(h.ops, history_limit=None)
    assert [(a.property, a.victim) for found in verdict.anomalies.values() for a in found] == [
        ("missing-turn", (ops[0].index, 4)), ("missing-turn", (ops[1].index, 4))]


def test_a_history_round_trips_through_jsonl_with_the_same_verdict(tmp_path: Path) -> None:
    ops = _busy_history().ops
    path = tmp_path / "history.jsonl"
    assert write_history(path, ops, meta={"seed": 1}) == len(ops)
    again = read_history(path)
    assert again == ops
    assert check(again) == check(ops)


def test_observe_reports_a_foreign_request_id_when_its_sender_arrives_after_the_read() -> None:
    h = Builder()
    mine = h.first("u1.c1", "s1", artist="Burial")
    theirs = h.first("u2.c1", "s2", artist="Mk.gee")
    read = h.read("u1.c1", "s1", recorded=[mine, (2, theirs.request_id)], turn_count=2)
    checker = IncrementalChecker()
    assert checker.observe(mine) == []
    assert checker.observe(read) == []
    new = checker.observe(theirs)
    assert [(a.property, a.victim, a.source) for a in new] == [("foreign-request-id", (read.index,), (theirs.index,))]
    assert checker.finish().anomalies["foreign-request-id"] == tuple(new)


def test_observe_leaves_a_session_created_miss_to_finish_an_unknown_op_arriving_later_may_excuse_it() -> None:
    h = Builder()
    h.first("u1.c1", "s1", artist="Burial")
    lost = h.more("u1.c1", "s1", anchor=h.ops[0], status="unknown", sent=True)
    moved = h.first("u1.c1", "s2", "Burial music", step="genre", sent="s1", created=True,
                    expect=Expect(kind="genre_mood", new_session=False))
    odd = h.first("u2.c1", "s3", "Songs by Mk.gee", artist="Mk.gee", expect=Expect(kind="genre_mood"))
    kind_miss = {"kind": {"expected": "genre_mood", "actual": "by_artist"}}
    checker = IncrementalChecker()
    assert checker.observe(h.ops[0]) == []
    # A miss with no session_created in it is proven whatever comes later: reported at once.
    assert [a.value for a in checker.observe(odd)] == [kind_miss]
    # One with it waits: the unknown op sent before it may still come in, and excuse that part.
    assert checker.observe(moved) == []
    assert checker.observe(lost) == []
    assert [(a.victim, a.value) for a in checker.finish().anomalies["expectation-failed"]] == [
        ((moved.index,), kind_miss), ((odd.index,), kind_miss)]
    # Without the unknown op, the final verdict has the session_created miss too.
    alone = IncrementalChecker()
    assert [a for op in (h.ops[0], moved) for a in alone.observe(op)] == []
    (final,) = alone.finish().anomalies["expectation-failed"]
    assert final.value == {**kind_miss, "session_created": {"expected": False, "actual": True}}
