"""nondeterministic-answer (contract, "Determinism")."""

from __future__ import annotations

from dataclasses import replace

from oracle_build import Builder, summary, tracks

from loadtest.history import Op
from loadtest.oracle import ALL_EVIDENCE, check


def _pair(h: Builder, conv: str, session: str, *, first_page: str, more_page: str,
          source: str = "primary", size: int = 3) -> list:
    first = h.first(conv, session, "Songs by Burial", artist="Burial",
                    tracks_=tracks("Burial", n=size, prefix=first_page), source=source)
    more = h.more(conv, session, anchor=first, tracks_=tracks("Burial", n=size, prefix=more_page))
    return [first, more]


def test_same_queries_different_tracks_is_nondeterministic_answer() -> None:
    h = Builder()
    a = _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    b = _pair(h, "u2.c1", "s2", first_page="a", more_page="x")
    verdict = check(h.ops)
    assert summary(verdict) == (False, {"nondeterministic-answer": [("bleeding", "u2.c1", (b[1].index,), (a[1].index,))]})
    assert verdict.anomalies["nondeterministic-answer"][0].value == {
        "position": 2, "query": "More tracks", "rank": 1,
        "track_ids": ["x-0", "x-1", "x-2"], "reference_track_ids": ["b-0", "b-1", "b-2"]}


def test_only_the_first_divergence_of_a_session_is_reported() -> None:
    h = Builder()
    _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    b = _pair(h, "u2.c1", "s2", first_page="z", more_page="y")
    assert summary(check(h.ops))[1]["nondeterministic-answer"] == [("bleeding", "u2.c1", (b[0].index,), (0,))]


def test_same_queries_same_tracks_pass() -> None:
    h = Builder()
    for n in range(3):
        _pair(h, f"u{n}.c1", f"s{n}", first_page="a", more_page="b")
    assert check(h.ops).valid is True


def test_fallback_answers_are_exempt() -> None:
    h = Builder()
    _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    _pair(h, "u2.c1", "s2", first_page="q", more_page="x", source="fallback")
    assert check(h.ops).valid is True


def test_pages_of_another_size_are_not_compared() -> None:
    h = Builder()
    _pair(h, "u1.c1", "s1", first_page="a", more_page="b", size=3)
    _pair(h, "u2.c1", "s2", first_page="q", more_page="x", size=5)
    assert check(h.ops).valid is True


def test_a_session_with_a_request_of_unknown_outcome_is_compared_only_before_it() -> None:
    h = Builder()
    _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    first = h.first("u2.c1", "s2", "Songs by Burial", artist="Burial", tracks_=tracks("Burial", prefix="a"))
    h.more("u2.c1", "s2", anchor=first, status="unknown", sent=True, step="lost")
    h.more("u2.c1", "s2", anchor=first, turn=3, tracks_=tracks("Burial", prefix="x"))
    assert check(h.ops).valid is True


NO_TURNS = ALL_EVIDENCE - {"turn"}


def _without_turns(ops: list[Op]) -> list[Op]:
    return [replace(op, turn=None) for op in ops]


def test_without_turn_numbers_the_walk_follows_invocation_order() -> None:
    h = Builder()
    a = _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    b = _pair(h, "u2.c1", "s2", first_page="a", more_page="x")
    verdict = check(_without_turns(h.ops), evidence=NO_TURNS)
    assert summary(verdict) == (False, {"nondeterministic-answer": [("bleeding", "u2.c1", (b[1].index,), (a[1].index,))]})


def test_without_turn_numbers_a_request_sent_before_the_last_answer_ends_the_walk() -> None:
    h = Builder()
    _pair(h, "u1.c1", "s1", first_page="a", more_page="b")
    first = h.first("u2.c1", "s2", "Songs by Burial", artist="Burial", tracks_=tracks("Burial", prefix="a"),
                    at=(10.0, 12.0))
    h.more("u2.c1", "s2", anchor=first, tracks_=tracks("Burial", prefix="x"), at=(11.0, 11.5))
    assert check(_without_turns(h.ops), evidence=NO_TURNS).valid is True
